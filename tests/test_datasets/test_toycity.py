"""The toy city generator: Cityscapes layout, determinism, label and instance consistency."""

import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from vipseg.datasets.cityscapes_labels import ID_TO_LABEL, NAME_TO_LABEL
from vipseg.datasets.toycity import PRESENT_CLASSES, make_toycity

REPO = Path(__file__).resolve().parents[2]
SIZE = dict(height=96, width=192)  # small but above the 64-pixel minimum: fast tests
STEM = r"(?P<city>[a-z]+)_\d{6}_\d{6}"
SUFFIXES = ("gtFine_labelIds", "gtFine_instanceIds", "gtFine_color")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> tuple[Path, dict]:
    """3 train / 12 val / 1 test images of 96x192."""
    root = tmp_path_factory.mktemp("toycity")
    return root, make_toycity(root, num_train=3, num_val=12, num_test=1, seed=0, **SIZE)


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def _pairs(root: Path, split: str):
    """(image, labelIds, instanceIds) paths of a split, matched by their Cityscapes stem."""
    for img in sorted((root / "leftImg8bit" / split).glob("*/*_leftImg8bit.png")):
        gt = root / "gtFine" / split / img.parent.name / img.name.replace("leftImg8bit", "gtFine")
        yield (
            img,
            gt.with_name(gt.stem + "_labelIds.png"),
            gt.with_name(gt.stem + "_instanceIds.png"),
        )


def test_layout_and_names_match_cityscapes(city):
    root, result = city
    assert result["counts"] == {"train": 3, "val": 12, "test": 1}
    assert sorted(p.name for p in root.iterdir()) == ["gtFine", "leftImg8bit"]
    for split, n in result["counts"].items():
        images = sorted((root / "leftImg8bit" / split).glob("*/*.png"))
        assert len(images) == n
        cities = {p.parent.name for p in images}
        for img in images:
            match = re.fullmatch(STEM + r"_leftImg8bit\.png", img.name)
            assert match and match["city"] == img.parent.name
            stem = img.name[: -len("_leftImg8bit.png")]
            for suffix in SUFFIXES:
                assert (
                    root / "gtFine" / split / img.parent.name / f"{stem}_{suffix}.png"
                ).is_file()
        assert len(list((root / "gtFine" / split).glob("*/*.png"))) == 3 * n
        for other in result["counts"]:  # a city belongs to one split only
            if other != split:
                other_cities = {p.parent.name for p in (root / "leftImg8bit" / other).glob("*/*")}
                assert cities.isdisjoint(other_cities)
    assert len({p.parent.name for p in (root / "leftImg8bit" / "train").glob("*/*")}) == 2


def test_image_and_map_formats(city):
    root, _ = city
    img_path, lab_path, inst_path = next(_pairs(root, "val"))
    img, lab, inst = _read(img_path), _read(lab_path), _read(inst_path)
    assert img.shape == (96, 192, 3) and img.dtype == np.uint8
    assert lab.shape == (96, 192) and lab.dtype == np.uint8
    assert inst.shape == (96, 192) and inst.dtype == np.uint16  # 16-bit PNG, as Cityscapes
    color = _read(lab_path.with_name(lab_path.name.replace("labelIds", "color")))[..., ::-1]
    lut = np.zeros((256, 3), np.uint8)
    for label in ID_TO_LABEL.values():
        lut[label.id] = label.color
    np.testing.assert_array_equal(color, lut[lab])  # RGB colours of the Cityscapes table
    # RGB stored as RGB: the sky (top row centre) is blue, not red after a BGR mix-up.
    rgb = img[..., ::-1].astype(int)
    sky = lab == NAME_TO_LABEL["sky"].id
    assert rgb[sky][:, 2].mean() > rgb[sky][:, 0].mean() + 30


def test_label_and_instance_maps_are_consistent(city):
    root, _ = city
    thing_ids = {lb.id for lb in ID_TO_LABEL.values() if lb.has_instances}
    instances_per_class: dict[int, set[int]] = {}
    for _, lab_path, inst_path in _pairs(root, "val"):
        lab, inst = _read(lab_path).astype(np.int64), _read(inst_path).astype(np.int64)
        assert set(np.unique(lab)) <= set(ID_TO_LABEL)
        things = inst >= 1000
        np.testing.assert_array_equal(inst[things] // 1000, lab[things])
        np.testing.assert_array_equal(inst[~things], lab[~things])
        assert set(np.unique(lab[things])) <= thing_ids
        assert not np.isin(lab[~things], list(thing_ids)).any()  # every thing pixel has an id
        for value in np.unique(inst[things]):
            instances_per_class.setdefault(int(value // 1000), set()).add(int(value % 1000))
    # Objects of a class are numbered apart (k = 0, 1, 2, ...), not all given one id.
    car, person = NAME_TO_LABEL["car"].id, NAME_TO_LABEL["person"].id
    assert len(instances_per_class[car]) >= 3 and len(instances_per_class[person]) >= 3
    assert all(0 in ks for ks in instances_per_class.values())


def test_every_claimed_class_is_in_the_val_split(city):
    _, result = city
    fractions = result["class_fractions"]["val"]
    expected = [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
        "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
        "bus", "bicycle",
    ]  # fmt: skip
    assert list(PRESENT_CLASSES) == expected
    assert set(expected) <= set(fractions)
    assert set(fractions) <= set(expected) | {"ego vehicle"}
    assert sum(fractions.values()) == pytest.approx(1.0)
    assert min(fractions[name] for name in expected) > 0.001  # none negligibly small


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}

    args = dict(num_train=2, num_val=1, num_test=0, **SIZE)
    make_toycity(tmp_path / "a", seed=3, **args)
    make_toycity(tmp_path / "b", seed=3, **args)
    make_toycity(tmp_path / "c", seed=4, **args)
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    assert len(a) == 12 and a == b
    assert a.keys() == c.keys() and all(a[k] != c[k] for k in a)


def test_existing_output_needs_overwrite(tmp_path):
    args = dict(num_train=1, num_val=1, **SIZE)
    make_toycity(tmp_path, **args)
    stale = tmp_path / "gtFine" / "train" / "stale.png"
    stale.write_bytes(b"")
    with pytest.raises(FileExistsError, match="leftImg8bit"):
        make_toycity(tmp_path, **args)
    make_toycity(tmp_path, overwrite=True, **args)
    assert not stale.exists()  # the old tree was deleted, not merged into
    assert len(list(tmp_path.rglob("*.png"))) == 8


@pytest.mark.parametrize(
    "kwargs",
    [dict(height=63), dict(width=32), dict(height=0), dict(num_train=-1), dict(num_val=1.5),
     dict(num_train=0, num_val=0, num_test=0), dict(seed=-1)],
)  # fmt: skip
def test_bad_arguments_raise_value_error(tmp_path, kwargs):
    with pytest.raises(ValueError, match="make_toycity"):
        make_toycity(tmp_path, **{**dict(num_train=1, num_val=1, **SIZE), **kwargs})
    assert not any(tmp_path.iterdir())  # validated before anything is written


def test_cli_writes_the_dataset(tmp_path):
    out = tmp_path / "toy"
    cmd = [sys.executable, "tools/misc/make_toycity.py", "--out", str(out), "--num-train", "2",
           "--num-val", "1", "--num-test", "1", "--height", "64", "--width", "128"]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and "train 2" in done.stdout
    assert len(list(out.glob("leftImg8bit/*/*/*_leftImg8bit.png"))) == 4
    assert len(list(out.glob("gtFine/*/*/*_gtFine_labelIds.png"))) == 4
    again = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "--overwrite" in again.stderr
