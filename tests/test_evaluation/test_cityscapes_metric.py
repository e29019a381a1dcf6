"""CityscapesMetric equals cityscapesscripts' evaluator on the same files, to 1e-6."""

import math

import cv2
import numpy as np
import pytest
import torch

from vipseg.datasets import CityscapesDataset
from vipseg.datasets.cityscapes_labels import label_id_to_train_id_lut, train_id_to_label_id_lut
from vipseg.datasets.toycity import make_toycity
from vipseg.evaluation import CityscapesMetric
from vipseg.utils.errors import ConfigError

PIPELINE = [dict(type="LoadAnnotations", with_instance=True), dict(type="PackSegInputs")]


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """Toy-city ground truth and imperfect predictions (train IDs and label-ID PNGs)."""
    root = tmp_path_factory.mktemp("cs_eval")
    make_toycity(root, num_train=0, num_val=6, height=96, width=192, seed=5)
    dataset = CityscapesDataset(
        data_root=str(root),
        data_prefix=dict(img_path="leftImg8bit/val", seg_map_path="gtFine/val"),
        pipeline=[dict(type="LoadImageFromFile"), *PIPELINE],
        test_mode=True,
    )
    rng = np.random.default_rng(0)
    to_train, to_label = label_id_to_train_id_lut(), train_id_to_label_id_lut()
    samples, pred_files, gt_files = [], [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        gt = cv2.imread(info["seg_map_path"], cv2.IMREAD_UNCHANGED)
        pred = np.roll(to_train[gt].astype(np.int64), shift=(i % 3, 2), axis=(0, 1))
        noise = rng.random(pred.shape) < 0.15
        pred[noise] = rng.integers(0, 19, noise.sum())
        pred[pred == 255] = rng.integers(0, 19, (pred == 255).sum())  # void: any class
        if i == 0:
            pred[pred == 13] = 14  # a whole image of cars predicted as trucks
        path = root / f"pred_{i}.png"
        cv2.imwrite(str(path), to_label[pred].astype(np.uint8))
        sample = dataset[i]["data_samples"]
        sample.set_data(dict(pred_sem_seg=_pixels(pred)))
        samples.append(sample.to_dict())
        pred_files.append(str(path))
        gt_files.append(info["seg_map_path"])
    return samples, pred_files, gt_files


def _pixels(array):
    from mmengine.structures import PixelData

    return PixelData(data=torch.as_tensor(array)[None])


def _official(pred_files, gt_files, monkeypatch, tmp_path):
    if not hasattr(np, "in1d"):  # removed in numpy 2.4; cityscapesscripts 2.3.0 still calls it
        monkeypatch.setattr(np, "in1d", np.isin, raising=False)
    monkeypatch.setenv("CITYSCAPES_RESULTS", str(tmp_path))
    ev = pytest.importorskip("cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
    monkeypatch.setattr(ev.args, "quiet", True)
    monkeypatch.setattr(ev.args, "JSONOutput", False)
    return ev.evaluateImgLists(pred_files, gt_files, ev.args)


def _close(ours: float, theirs: float) -> bool:
    return (math.isnan(ours) and math.isnan(theirs)) or abs(ours - theirs) <= 1e-6


def test_every_score_equals_cityscapesscripts(split, monkeypatch, tmp_path):
    samples, pred_files, gt_files = split
    official = _official(pred_files, gt_files, monkeypatch, tmp_path)
    metric = CityscapesMetric()
    metric.process({}, samples)
    ours = metric.evaluate(size=len(samples))
    assert _close(ours["mIoU"], official["averageScoreClasses"])
    assert _close(ours["iIoU"], official["averageScoreInstClasses"])
    assert _close(ours["catIoU"], official["averageScoreCategories"])
    assert _close(ours["catiIoU"], official["averageScoreInstCategories"])
    checked = 0
    pairs = [("IoU", "classScores"), ("iIoU", "classInstScores")]
    pairs += [("catIoU", "categoryScores"), ("catiIoU", "categoryInstScores")]
    for prefix, key in pairs:
        for name, value in official[key].items():
            if math.isnan(value) and f"{prefix}.{name}" not in ours:
                continue  # ignored classes and 'void' are not reported
            assert _close(ours[f"{prefix}.{name}"], value), (prefix, name)
            checked += 1
    assert checked == 19 + 8 + 7 + 2
    # The data exercise the scores: imperfect, with instance classes present.
    assert 0.3 < ours["mIoU"] < 0.95 and 0.1 < ours["iIoU"] < 0.95
    assert ours["iIoU.car"] != ours["IoU.car"]


def test_split_sum_is_not_a_mean_of_images(split):
    samples, _, _ = split
    whole = CityscapesMetric()
    whole.process({}, samples)
    total = whole.evaluate(size=len(samples))
    per_image = []
    for sample in samples:
        one = CityscapesMetric()
        one.process({}, [sample])
        per_image.append(one.evaluate(size=1)["mIoU"])
    assert abs(total["mIoU"] - float(np.mean(per_image))) > 1e-4


def test_table_has_the_cityscapesscripts_layout(split, capsys):
    from mmengine.logging import MMLogger

    MMLogger.get_instance("vipseg-test-cs-table")
    samples, _, _ = split
    metric = CityscapesMetric()
    metric.process({}, samples)
    metric.evaluate(size=len(samples))
    out = capsys.readouterr().out
    assert "classes          IoU      nIoU" in out and "categories       IoU      nIoU" in out
    assert out.count("Score Average : ") == 2
    assert "road          : " in out and "vehicle       : " in out


def test_missing_instance_maps_is_a_config_error():
    sample = dict(
        pred_sem_seg=dict(data=torch.zeros(1, 2, 2, dtype=torch.long)),
        gt_sem_seg=dict(data=torch.zeros(1, 2, 2, dtype=torch.long)),
    )
    with pytest.raises(ConfigError, match="with_instance=True"):
        CityscapesMetric().process({}, [sample])


def test_confusion_file_is_the_train_id_matrix_of_the_split(split, tmp_path):
    samples, _, gt_files = split
    path = tmp_path / "out" / "cs_confusion.npz"
    metric = CityscapesMetric(confusion_file=str(path))
    metric.process({}, samples)
    metric.evaluate(size=len(samples))
    # Expected: from the label files (train IDs, 255 ignored) and the predictions, in numpy.
    lut = label_id_to_train_id_lut()
    expected = np.zeros((19, 19), dtype=np.int64)
    for sample, gt_file in zip(samples, gt_files, strict=True):
        gt = lut[cv2.imread(gt_file, cv2.IMREAD_UNCHANGED)].astype(np.int64)
        pred = sample["pred_sem_seg"]["data"][0].numpy()
        valid = gt != 255
        expected += np.bincount(gt[valid] * 19 + pred[valid], minlength=361).reshape(19, 19)
    with np.load(path) as data:
        np.testing.assert_array_equal(data["confusion"], expected)
        assert data["confusion"].dtype == np.int64
        assert data["classes"].tolist()[:3] == ["road", "sidewalk", "building"]
        assert len(data["classes"]) == 19
    assert expected[13, 14] > 0  # the image of cars predicted as trucks is in it
