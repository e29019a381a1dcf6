"""RareClassSampling on a tiny synthetic split whose class statistics are known by hand."""

import math
import re

import cv2
import numpy as np
import pytest

import vipseg.datasets.rare_class_sampling as rcs_module
from vipseg.datasets import BaseSegDataset, RareClassSampling
from vipseg.registry import DATASETS
from vipseg.utils.errors import ConfigError, DataError

CLASSES = ("a", "b", "c", "d")
# Pixels of each class in each 10x10 label map (the rest of image 2 is ignore, 255).
LAYOUT = [
    {0: 100},
    {0: 60, 1: 40},
    {0: 90, 2: 5},
    {3: 100},
]
PIPELINE = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations")]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("rcs")
    for sub in ("img", "ann"):
        (root / sub).mkdir()
    for i, counts in enumerate(LAYOUT):
        label = np.full(100, 255, np.uint8)
        start = 0
        for cls, n in counts.items():
            label[start : start + n] = cls
            start += n
        cv2.imwrite(str(root / "img" / f"{i}.jpg"), np.zeros((10, 10, 3), np.uint8))
        cv2.imwrite(str(root / "ann" / f"{i}.png"), label.reshape(10, 10))
    return root


def make(root, pipeline=PIPELINE, **kwargs) -> RareClassSampling:
    dataset = BaseSegDataset(
        data_root=str(root),
        data_prefix=dict(img_path="img", seg_map_path="ann"),
        metainfo=dict(classes=CLASSES),
        pipeline=pipeline,
    )
    return RareClassSampling(dataset, **kwargs)


def softmax(logits: dict[int, float]) -> np.ndarray:
    total = sum(math.exp(v) for v in logits.values())
    probs = np.zeros(len(CLASSES))
    for cls, v in logits.items():
        probs[cls] = math.exp(v) / total
    return probs


def test_probabilities_are_the_softmax_of_rarity(root, monkeypatch):
    logged = []
    monkeypatch.setattr(rcs_module, "print_log", lambda msg, **kw: logged.append(msg))
    rcs = make(root, temperature=0.1, min_pixels=10)
    # 395 counted pixels: a 250, b 40, c 5 (only in image 2, below min_pixels), d 100.
    expected = softmax(
        {0: (1 - 250 / 395) / 0.1, 1: (1 - 40 / 395) / 0.1, 3: (1 - 100 / 395) / 0.1}
    )
    np.testing.assert_allclose(rcs.class_probabilities, expected, rtol=1e-12)
    assert rcs.class_probabilities[2] == 0
    assert [images.tolist() for images in rcs.class_images] == [[0, 1, 2], [1], [], [3]]
    assert len(logged) == 1 and re.search(r"never sampled.*>= 10 pixels.*: c$", logged[0])
    assert len(rcs) == 4 and rcs.metainfo["classes"] == CLASSES


def test_no_warning_when_every_class_is_eligible(root, monkeypatch):
    logged = []
    monkeypatch.setattr(rcs_module, "print_log", lambda msg, **kw: logged.append(msg))
    rcs = make(root, temperature=0.1, min_pixels=5)
    assert (rcs.class_probabilities > 0).all() and logged == []


def test_draws_follow_the_probabilities_and_hold_the_class(root):
    rcs = make(root, temperature=0.1, min_pixels=10)
    np.random.seed(0)
    draws = [rcs.draw() for _ in range(2000)]
    freq = np.bincount([cls for cls, _ in draws], minlength=len(CLASSES)) / len(draws)
    np.testing.assert_allclose(freq, rcs.class_probabilities, atol=0.03)
    for cls, image in draws:
        assert LAYOUT[image].get(cls, 0) >= 10


def test_items_carry_the_sampled_class(root):
    rcs = make(root, temperature=0.1, min_pixels=10)
    np.random.seed(1)
    seen = set()
    for _ in range(60):
        item = rcs[0]  # the index is ignored: every item is a fresh draw
        cls = item["sample_class"]
        assert np.count_nonzero(item["gt_seg_map"] == cls) >= 10
        seen.add(cls)
    assert seen == {0, 1, 3}


def test_large_temperature_is_near_uniform(root):
    rcs = make(root, temperature=1e6, min_pixels=10)
    np.testing.assert_allclose(rcs.class_probabilities, [1 / 3, 1 / 3, 0, 1 / 3], atol=1e-6)
    # The image is uniform among those holding the class: a is in images 0, 1 and 2.
    np.random.seed(3)
    images = [image for cls, image in (rcs.draw() for _ in range(2000)) if cls == 0]
    freq = np.bincount(images, minlength=4) / len(images)
    np.testing.assert_allclose(freq, [1 / 3, 1 / 3, 1 / 3, 0], atol=0.06)


def test_small_temperature_favours_the_rarest_class(root):
    rcs = make(root, temperature=0.01, min_pixels=10)
    assert rcs.class_probabilities.argmax() == 1 and rcs.class_probabilities[1] > 0.99


def test_no_eligible_class_raises(root):
    with pytest.raises(DataError, match=rf"{re.escape(str(root))}.*>= 101 pixels"):
        make(root, min_pixels=101)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(temperature=0), "temperature must be > 0"),
        (dict(min_pixels=0), "min_pixels >= 1"),
        (dict(workers=-1), "workers >= 0"),
    ],
)
def test_bad_arguments_raise(root, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make(root, **kwargs)
    with pytest.raises(ConfigError, match="must be a BaseSegDataset or its config, got list"):
        RareClassSampling([])


def test_pipeline_returning_none_is_redrawn_then_fails(root):
    rcs = make(root, min_pixels=10, max_refetch=5)
    calls = []

    def flaky(info):
        calls.append(info["sample_class"])
        return None if len(calls) < 3 else info

    rcs.dataset.pipeline = flaky
    assert "sample_class" in rcs[0] and len(calls) == 3
    rcs.dataset.pipeline = lambda info: None
    with pytest.raises(DataError, match=r"returned None for 5 draws in a row"):
        rcs[0]


def test_builds_from_config_and_lazily(root):
    cfg = dict(
        type="RareClassSampling",
        min_pixels=10,
        lazy_init=True,
        dataset=dict(
            type="BaseSegDataset",
            data_root=str(root),
            data_prefix=dict(img_path="img", seg_map_path="ann"),
            metainfo=dict(classes=CLASSES),
            pipeline=PIPELINE,
        ),
    )
    rcs = DATASETS.build(cfg)
    assert isinstance(rcs, RareClassSampling) and not hasattr(rcs, "class_probabilities")
    assert rcs[0]["sample_class"] in (0, 1, 3)
    assert rcs.class_probabilities.sum() == pytest.approx(1)


def test_class_aware_crop_keeps_the_sampled_class(root):
    crop = dict(type="RandomCrop", crop_size=(3, 3), class_aware=True)
    rcs = make(root, pipeline=[*PIPELINE, crop], temperature=0.1, min_pixels=10)
    np.random.seed(2)
    for _ in range(100):
        item = rcs[0]
        assert item["gt_seg_map"].shape == (3, 3)
        assert (item["gt_seg_map"] == item["sample_class"]).any()
