"""RealSyntheticMix: the synthetic share, every sample reachable, config wiring."""

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from vipseg.datasets import CamVidDataset, RealSyntheticMix
from vipseg.registry import DATASETS
from vipseg.utils import ConfigError, check_config_types, set_data_root

PREFIX = dict(img_path="img", seg_map_path="ann")


def _split(root, n, value):
    """n 8x8 samples whose label is ``value + index`` (so an item tells where it came from)."""
    for sub in ("img", "ann"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(root / "img" / f"{i}.png"), np.zeros((8, 8, 3), np.uint8))
        cv2.imwrite(str(root / "ann" / f"{i}.png"), np.full((8, 8), value + i, np.uint8))
    pipeline = [dict(type="LoadAnnotations")]
    return dict(
        type="CamVidDataset",
        data_root=str(root),
        data_prefix=PREFIX,
        img_suffix=".png",
        pipeline=pipeline,
        metainfo=dict(classes=tuple(str(c) for c in range(64))),
    )


@pytest.fixture
def splits(tmp_path):
    return _split(tmp_path / "real", 6, 0), _split(tmp_path / "syn", 4, 32)


@pytest.mark.parametrize(("ratio", "n_syn"), [(0.0, 0), (0.25, 2), (0.5, 6), (0.75, 18)])
def test_the_synthetic_share_of_a_pass(splits, ratio, n_syn):
    np.random.seed(0)
    mix = RealSyntheticMix(*splits, synthetic_ratio=ratio)
    assert len(mix) == 6 + n_syn and mix.num_synthetic == n_syn
    values = [int(mix[i]["gt_seg_map"][0, 0]) for i in range(len(mix))]
    assert values[:6] == list(range(6))  # every real sample once, in order
    assert all(32 <= v < 36 for v in values[6:])
    assert sum(mix.is_synthetic(i) for i in range(len(mix))) == n_syn
    assert n_syn / len(mix) == pytest.approx(ratio, abs=0.5 / len(mix))


def test_all_synthetic_samples_are_drawn(splits):
    np.random.seed(0)
    mix = RealSyntheticMix(*splits, synthetic_ratio=0.25)  # 2 synthetic items per pass
    seen = {int(mix[7]["gt_seg_map"][0, 0]) for _ in range(60)}
    assert seen == {32, 33, 34, 35}


def test_bad_ratio_and_class_mismatch(splits):
    real, syn = splits
    with pytest.raises(ConfigError, match=r"synthetic_ratio must be in \[0, 1\), got 1"):
        RealSyntheticMix(real, syn, synthetic_ratio=1)
    other = dict(syn, metainfo=dict(classes=("a", "b")))
    with pytest.raises(ConfigError, match="classes .* differ"):
        RealSyntheticMix(real, other)
    with pytest.raises(IndexError):
        RealSyntheticMix(real, syn, synthetic_ratio=0.25)[8]


def test_metainfo_is_the_real_splits(splits):
    mix = DATASETS.build(dict(type="RealSyntheticMix", dataset=splits[0], synthetic=splits[1]))
    assert isinstance(mix.dataset, CamVidDataset)
    assert mix.metainfo["classes"] == tuple(str(c) for c in range(64))


def test_data_root_moves_the_real_split_only_and_types_are_checked():
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type="RealSyntheticMix",
                    dataset=dict(type="CamVidDataset", data_root="real", pipeline=[]),
                    synthetic=dict(
                        type="CamVidDataset", data_root="syn", pipeline=[dict(type="Loadd")]
                    ),
                )
            )
        )
    )
    set_data_root(cfg, "elsewhere")
    assert cfg.train_dataloader.dataset.dataset.data_root == "elsewhere"
    assert cfg.train_dataloader.dataset.synthetic.data_root == "syn"
    with pytest.raises(ConfigError, match=r"dataset\.synthetic\.pipeline\.0\.type='Loadd'"):
        check_config_types(cfg)
    cfg.train_dataloader.dataset.synthetic.pipeline = []
    cfg.train_dataloader.dataset.synthetic.type = "CamVidDataSet"
    with pytest.raises(ConfigError, match=r"dataset\.synthetic\.type='CamVidDataSet'"):
        check_config_types(cfg)
