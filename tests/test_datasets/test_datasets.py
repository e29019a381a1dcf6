"""Datasets: the Cityscapes label table, the on-the-fly ID mapping, file discovery, bad input."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from vipseg.datasets import CamVidDataset, CityscapesDataset
from vipseg.datasets.cityscapes_labels import (
    CLASSES,
    ID_TO_LABEL,
    LABELS,
    label_id_to_train_id_lut,
    train_id_to_label_id_lut,
)
from vipseg.utils.errors import DataError, MissingDataError

TRAIN_PREFIX = dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train")
VAL_PREFIX = dict(img_path="leftImg8bit/val", seg_map_path="gtFine/val")
LOAD = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations")]


def test_label_table_has_the_19_cityscapes_train_classes_in_order():
    assert len(LABELS) == 35 and len(CLASSES) == 19
    assert CLASSES[:3] == ("road", "sidewalk", "building") and CLASSES[-1] == "bicycle"
    assert sorted(lb.train_id for lb in LABELS if 0 <= lb.train_id < 255) == list(range(19))
    assert [lb.name for lb in LABELS if lb.has_instances and not lb.ignore_in_eval] == [
        "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
    ]  # fmt: skip


def test_label_id_lut_maps_ids_to_train_ids_and_the_rest_to_ignore():
    lut = label_id_to_train_id_lut()
    assert lut.shape == (256,)
    assert lut[7] == 0 and lut[8] == 1 and lut[26] == 13 and lut[33] == 18  # road, sidewalk, car
    for void in (0, 1, 3, 9, 14, 29, 30):  # unlabeled, ego vehicle, ..., caravan, trailer
        assert lut[void] == 255
    assert (lut[34:] == -1).all()  # not in the table: rejected by LoadAnnotations
    back = train_id_to_label_id_lut()
    for train_id in range(19):
        assert lut[back[train_id]] == train_id


def test_cityscapes_dataset_finds_pairs_in_the_official_layout(toycity_root):
    ds = CityscapesDataset(data_root=str(toycity_root), data_prefix=TRAIN_PREFIX)
    assert len(ds) == 4
    info = ds.get_data_info(0)
    img, seg = Path(info["img_path"]), Path(info["seg_map_path"])
    assert img.name.endswith("_leftImg8bit.png") and img.parent.parent.name == "train"
    assert seg.name == img.name.replace("_leftImg8bit.png", "_gtFine_labelIds.png")
    assert seg.parent.name == img.parent.name  # same city folder
    assert info["instance_map_path"].endswith("_gtFine_instanceIds.png")
    assert info["num_classes"] == 19 and info["ignore_index"] == 255
    assert ds.metainfo["classes"] == CLASSES


def test_cityscapes_labels_are_mapped_to_train_ids_on_the_fly(toycity_root):
    ds = CityscapesDataset(data_root=str(toycity_root), data_prefix=VAL_PREFIX, pipeline=LOAD)
    item = ds[0]
    raw = cv2.imread(ds.get_data_info(0)["seg_map_path"], cv2.IMREAD_UNCHANGED)
    lut = label_id_to_train_id_lut()
    np.testing.assert_array_equal(item["gt_seg_map"], lut[raw].astype(np.uint8))
    assert set(np.unique(item["gt_seg_map"])) <= set(range(19)) | {255}
    # The stored IDs themselves never reach the network: road is ID 7, train ID 0.
    road = raw == ID_TO_LABEL[7].id
    assert road.any() and (item["gt_seg_map"][road] == 0).all()


def _write_camvid(root: Path, split: str, n: int) -> None:
    (root / "img_dir" / split).mkdir(parents=True)
    (root / "ann_dir" / split).mkdir(parents=True)
    for i in range(n):
        labels = np.full((12, 16), i % 11, np.uint8)
        labels[0] = 255  # void row
        cv2.imwrite(str(root / "img_dir" / split / f"f{i:03d}.jpg"), np.zeros((12, 16, 3)))
        cv2.imwrite(str(root / "ann_dir" / split / f"f{i:03d}.png"), labels)


def test_camvid_dataset_reads_class_indices_with_void_255(tmp_path):
    _write_camvid(tmp_path, "train", 3)
    prefix = dict(img_path="img_dir/train", seg_map_path="ann_dir/train")
    ds = CamVidDataset(data_root=str(tmp_path), data_prefix=prefix, pipeline=LOAD)
    assert len(ds) == 3 and len(ds.metainfo["classes"]) == 11
    item = ds[2]
    assert (item["gt_seg_map"][0] == 255).all() and (item["gt_seg_map"][1:] == 2).all()


def test_missing_data_root_names_it_and_the_fix(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(MissingDataError, match="make_toycity.py --out") as info:
        CityscapesDataset(data_root=str(root), data_prefix=TRAIN_PREFIX)
    assert str(root) in str(info.value)


def test_empty_split_is_an_error(tmp_path):
    (tmp_path / "leftImg8bit" / "train" / "city").mkdir(parents=True)
    with pytest.raises(MissingDataError, match="empty split"):
        CityscapesDataset(data_root=str(tmp_path), data_prefix=TRAIN_PREFIX)


def test_missing_split_folder_is_an_error(tmp_path):
    (tmp_path / "leftImg8bit").mkdir()
    with pytest.raises(MissingDataError, match="leftImg8bit/train does not exist"):
        CityscapesDataset(data_root=str(tmp_path), data_prefix=TRAIN_PREFIX)


def test_image_without_label_file_is_an_error_not_a_skip(tmp_path):
    _write_camvid(tmp_path, "val", 2)
    missing = tmp_path / "ann_dir" / "val" / "f001.png"
    missing.unlink()
    prefix = dict(img_path="img_dir/val", seg_map_path="ann_dir/val")
    with pytest.raises(MissingDataError, match="has no label file") as info:
        CamVidDataset(data_root=str(tmp_path), data_prefix=prefix)
    assert str(missing) in str(info.value)


def test_undecodable_image_names_the_file(tmp_path):
    _write_camvid(tmp_path, "val", 1)
    broken = tmp_path / "img_dir" / "val" / "f000.jpg"
    broken.write_bytes(b"not a jpeg")
    prefix = dict(img_path="img_dir/val", seg_map_path="ann_dir/val")
    ds = CamVidDataset(data_root=str(tmp_path), data_prefix=prefix, pipeline=LOAD, test_mode=True)
    with pytest.raises(DataError, match=str(broken)):
        ds[0]


def test_label_value_outside_the_classes_names_file_and_value(tmp_path):
    _write_camvid(tmp_path, "val", 1)
    ann = tmp_path / "ann_dir" / "val" / "f000.png"
    cv2.imwrite(str(ann), np.full((12, 16), 11, np.uint8))  # 11 classes: 0..10 and 255
    prefix = dict(img_path="img_dir/val", seg_map_path="ann_dir/val")
    ds = CamVidDataset(data_root=str(tmp_path), data_prefix=prefix, pipeline=LOAD, test_mode=True)
    with pytest.raises(DataError, match=r"11->11") as info:
        ds[0]
    assert str(ann) in str(info.value)


def test_label_map_of_another_size_names_both_files(tmp_path):
    _write_camvid(tmp_path, "val", 1)
    ann = tmp_path / "ann_dir" / "val" / "f000.png"
    cv2.imwrite(str(ann), np.zeros((10, 16), np.uint8))
    prefix = dict(img_path="img_dir/val", seg_map_path="ann_dir/val")
    ds = CamVidDataset(data_root=str(tmp_path), data_prefix=prefix, pipeline=LOAD, test_mode=True)
    with pytest.raises(DataError, match=r"has size \(10, 16\) but image .* has size \(12, 16\)"):
        ds[0]
