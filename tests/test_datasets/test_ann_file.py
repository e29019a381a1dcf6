"""Split files (``ann_file``): only the listed images, in file order, and clear errors."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from vipseg.datasets import CamVidDataset, CityscapesDataset
from vipseg.utils.errors import DataError, MissingDataError

PREFIX = dict(img_path="img_dir", seg_map_path="ann_dir")


def _write_camvid(root: Path, split: str, n: int) -> None:
    for folder in ("img_dir", "ann_dir"):
        (root / folder / split).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(root / "img_dir" / split / f"f{i:03d}.jpg"), np.zeros((12, 16, 3)))
        cv2.imwrite(str(root / "ann_dir" / split / f"f{i:03d}.png"), np.zeros((12, 16)))


@pytest.fixture
def camvid(tmp_path) -> Path:
    _write_camvid(tmp_path, "train", 4)
    _write_camvid(tmp_path, "val", 2)
    return tmp_path


def _dataset(root: Path, lines: list[str], name: str = "split.txt") -> CamVidDataset:
    (root / name).write_text("\n".join(lines) + "\n")
    return CamVidDataset(data_root=str(root), data_prefix=PREFIX, ann_file=name)


def test_ann_file_restricts_and_orders_the_images(camvid):
    ds = _dataset(camvid, ["# fold 0", "val/f001", "", "  train/f002  ", "train/f000"])
    assert len(ds) == 3
    infos = [ds.get_data_info(i) for i in range(3)]
    assert [info["img_path"] for info in infos] == [
        str(camvid / "img_dir" / "val" / "f001.jpg"),
        str(camvid / "img_dir" / "train" / "f002.jpg"),
        str(camvid / "img_dir" / "train" / "f000.jpg"),
    ]
    assert infos[0]["seg_map_path"] == str(camvid / "ann_dir" / "val" / "f001.png")


def test_absolute_ann_file_is_used_as_it_is(camvid, tmp_path_factory):
    split = tmp_path_factory.mktemp("splits") / "val.txt"
    split.write_text("val/f000\n")
    ds = CamVidDataset(data_root=str(camvid), data_prefix=PREFIX, ann_file=str(split))
    assert len(ds) == 1


def test_without_ann_file_every_image_is_found(camvid):
    assert len(CamVidDataset(data_root=str(camvid), data_prefix=PREFIX)) == 6


def test_listed_image_that_is_missing_names_file_line_and_path(camvid):
    with pytest.raises(MissingDataError, match="line 3") as info:
        _dataset(camvid, ["train/f000", "# comment", "train/f009"])
    message = str(info.value)
    assert str(camvid / "split.txt") in message
    assert str(camvid / "img_dir" / "train" / "f009.jpg") in message


def test_missing_ann_file_names_it(camvid):
    with pytest.raises(MissingDataError, match="does not exist") as info:
        CamVidDataset(data_root=str(camvid), data_prefix=PREFIX, ann_file="nope.txt")
    assert str(camvid / "nope.txt") in str(info.value)


def test_ann_file_without_images_is_an_error(camvid):
    with pytest.raises(MissingDataError, match="lists no images"):
        _dataset(camvid, ["# nothing here", ""])


def test_duplicate_stem_is_a_data_error(camvid):
    with pytest.raises(DataError, match=r"line 3 repeats 'train/f001' \(first on line 1\)"):
        _dataset(camvid, ["train/f001", "train/f002", "train/f001"])


def test_cityscapes_dataset_takes_an_ann_file(toycity_root, tmp_path):
    full = CityscapesDataset(data_root=str(toycity_root), data_prefix=dict(img_path="leftImg8bit"))
    last = full.get_data_info(len(full) - 1)["img_path"]
    stem = str(Path(last).relative_to(toycity_root / "leftImg8bit"))[: -len(full.img_suffix)]
    (tmp_path / "one.txt").write_text(f"{stem}\n")
    ds = CityscapesDataset(
        data_root=str(toycity_root),
        data_prefix=dict(img_path="leftImg8bit", seg_map_path="gtFine"),
        ann_file=str(tmp_path / "one.txt"),
    )
    assert len(ds) == 1 and ds.get_data_info(0)["img_path"] == last
    assert ds.get_data_info(0)["instance_map_path"].endswith("_gtFine_instanceIds.png")


def test_absolute_stem_is_a_data_error(camvid):
    with pytest.raises(DataError, match="line 1: stem '/etc/passwd' must be relative"):
        _dataset(camvid, ["/etc/passwd"])
