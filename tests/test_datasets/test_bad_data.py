"""Bad input, file by file: each fault is handled or is one error naming the file; opt-in
``skip_bad_samples`` logs, counts and replaces bad samples (docs/reliability.md)."""

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from vipseg.datasets import BaseSegDataset, CityscapesDataset
from vipseg.utils.errors import ConfigError, DataError, MissingDataError

H, W = 12, 16
CLASSES = ("a", "b", "c")
PREFIX = dict(img_path="img", seg_map_path="ann")
LOAD = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations")]


def _bgr(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), np.uint8)


def _encoded(ext: str) -> bytes:
    return cv2.imencode(ext, _bgr())[1].tobytes()


def _labels(value: int) -> np.ndarray:
    labels = np.full((H, W), value, np.uint8)
    labels[0] = 255  # the ignore index is always allowed
    return labels


def _write(root: Path, n: int) -> Path:
    for sub in ("img", "ann"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(root / "img" / f"s{i}.png"), _bgr(i))
        cv2.imwrite(str(root / "ann" / f"s{i}.png"), _labels(i % len(CLASSES)))
    return root


def _dataset(root: Path, **kwargs) -> BaseSegDataset:
    kwargs.setdefault("test_mode", True)
    kwargs.setdefault("pipeline", LOAD)
    return BaseSegDataset(
        data_root=str(root), data_prefix=PREFIX, img_suffix=".png",
        metainfo=dict(classes=CLASSES), **kwargs,
    )  # fmt: skip


@pytest.fixture
def logged():
    """Messages the datasets log through mmengine's current logger."""
    logger, records = MMLogger.get_current_instance(), []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


PNG, JPEG = _encoded(".png"), _encoded(".jpg")
TRUNCATED_PNG = "truncated PNG: no IEND chunk after the last IDAT chunk"
TRUNCATED_JPEG = "truncated JPEG: no end-of-image marker after the last scan"
# Raw file contents and the reason the error gives. Formats are sniffed from the bytes.
BROKEN_FILES = {
    "truncated_png": (PNG[: len(PNG) // 2], TRUNCATED_PNG),
    "truncated_jpeg": (JPEG[: len(JPEG) // 2], TRUNCATED_JPEG),
    "jpeg_without_end_marker": (JPEG[:-2], TRUNCATED_JPEG),
    # Header and IEND intact, the compressed pixels zeroed: fails the checksums.
    "corrupt_png_body": (PNG[:41] + bytes(len(PNG) - 53) + PNG[-12:], "not a readable image"),
    "garbage": (b"not an image at all", "not a readable image"),
    "zero_bytes": (b"", "empty file"),
}


@pytest.mark.parametrize("which", ["img", "ann"])
@pytest.mark.parametrize("fault", sorted(BROKEN_FILES))
def test_broken_file_is_one_data_error_naming_it(tmp_path, fault, which):
    root = _write(tmp_path, 2)
    content, reason = BROKEN_FILES[fault]
    broken = root / which / "s1.png"
    broken.write_bytes(content)
    ds = _dataset(root)
    with pytest.raises(DataError) as info:
        ds[1]
    assert str(info.value) == f"cannot decode image {broken}: {reason} ({len(content)} bytes)"
    assert ds[0]["img"].shape == (H, W, 3)  # the good sample still loads


@pytest.mark.parametrize("ext", [".png", ".jpg"])
def test_trailing_bytes_after_a_complete_image_are_not_truncation(tmp_path, ext):
    root = _write(tmp_path, 1)
    (root / "img" / "s0.png").write_bytes(_encoded(ext) + b"\x00\x00trailing bytes")
    expected = cv2.imdecode(np.frombuffer(_encoded(ext), np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(_dataset(root)[0]["img"], expected)


HANDLED_IMAGES = {
    # written array -> the uint8 BGR image LoadImageFromFile must produce
    "grayscale": (_bgr()[..., 0], np.repeat(_bgr()[..., :1], 3, axis=2)),
    "rgba": (np.dstack([_bgr(), np.full((H, W), 9, np.uint8)]), _bgr()),
    "16bit_color": (_bgr().astype(np.uint16) * 257, _bgr()),  # v * 257 >> 8 == v
    "16bit_grayscale": (_bgr()[..., 0].astype(np.uint16) * 257, np.repeat(_bgr()[..., :1], 3, 2)),
}


@pytest.mark.parametrize("kind", sorted(HANDLED_IMAGES))
def test_unusual_image_formats_become_3_channel_uint8(tmp_path, kind):
    root = _write(tmp_path, 1)
    written, expected = HANDLED_IMAGES[kind]
    assert cv2.imwrite(str(root / "img" / "s0.png"), written)
    item = _dataset(root)[0]
    assert item["img"].dtype == np.uint8 and item["img"].shape == (H, W, 3)
    np.testing.assert_array_equal(item["img"], expected)
    np.testing.assert_array_equal(item["gt_seg_map"], _labels(0))


def test_label_map_of_another_size_names_both_files_and_sizes(tmp_path):
    root = _write(tmp_path, 1)
    ann = root / "ann" / "s0.png"
    cv2.imwrite(str(ann), np.zeros((H - 2, W + 1), np.uint8))
    with pytest.raises(DataError) as info:
        _dataset(root)[0]
    assert str(info.value) == (
        f"label map {ann} has size {(H - 2, W + 1)} but image {root / 'img' / 's0.png'} "
        f"has size {(H, W)}"
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            np.array([[0, 3], [7, 255]], np.uint8),
            "outside [0, 3) that are not ignore_index=255: 3->3, 7->7 (stored->class)",
        ),
        (np.array([[0, 300], [2, 255]], np.uint16), "stored values [300] outside 0..255"),
        (np.zeros((2, 2, 3), np.uint8), "must be a single-channel integer image"),
    ],
    ids=["class_out_of_range", "16bit_above_255", "color_label"],
)
def test_bad_label_values_name_the_file_and_the_values(tmp_path, labels, message):
    root = _write(tmp_path, 1)
    cv2.imwrite(str(root / "img" / "s0.png"), _bgr()[:2, :2])
    ann = root / "ann" / "s0.png"
    cv2.imwrite(str(ann), labels)
    with pytest.raises(DataError) as info:
        _dataset(root)[0]
    assert f"label file {ann} " in str(info.value) or f"label map {ann} " in str(info.value)
    assert message in str(info.value)


def test_16bit_label_map_with_valid_values_is_accepted(tmp_path):
    root = _write(tmp_path, 1)
    labels = _labels(2)
    cv2.imwrite(str(root / "ann" / "s0.png"), labels.astype(np.uint16))
    item = _dataset(root)[0]
    assert item["gt_seg_map"].dtype == np.uint8
    np.testing.assert_array_equal(item["gt_seg_map"], labels)


def _write_cityscapes(root: Path, label_ids: np.ndarray) -> Path:
    for sub in ("leftImg8bit", "gtFine"):
        (root / sub / "train" / "c").mkdir(parents=True)
    cv2.imwrite(str(root / "leftImg8bit/train/c/x_leftImg8bit.png"), _bgr()[:2, :2])
    ann = root / "gtFine/train/c/x_gtFine_labelIds.png"
    cv2.imwrite(str(ann), label_ids)
    return ann


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_cityscapes_values_are_checked_after_the_id_mapping(tmp_path, dtype):
    # Label ID 7 (road) -> train ID 0, 0 (unlabeled) -> 255: valid; ID 34 is in no table.
    prefix = dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train")
    ann = _write_cityscapes(tmp_path / "ok", np.array([[7, 0], [26, 33]], dtype))
    ds = CityscapesDataset(data_root=str(tmp_path / "ok"), data_prefix=prefix, pipeline=LOAD,
                           instance_suffix=None, test_mode=True)  # fmt: skip
    np.testing.assert_array_equal(ds[0]["gt_seg_map"], [[0, 255], [13, 18]])
    ann = _write_cityscapes(tmp_path / "bad", np.array([[7, 34], [40, 33]], dtype))
    ds = CityscapesDataset(data_root=str(tmp_path / "bad"), data_prefix=prefix, pipeline=LOAD,
                           instance_suffix=None, test_mode=True)  # fmt: skip
    with pytest.raises(DataError, match=str(ann)) as info:
        ds[0]
    assert "stored values [34, 40] that are not in the dataset's label table" in str(info.value)


def test_missing_annotation_fails_at_construction_naming_both_paths(tmp_path):
    root = _write(tmp_path, 3)
    (root / "ann" / "s1.png").unlink()
    with pytest.raises(MissingDataError) as info:
        _dataset(root, pipeline=[])  # no pipeline: nothing is loaded, the listing fails
    assert f"image {root / 'img' / 's1.png'} has no label file {root / 'ann' / 's1.png'}" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ("s0", "ann_file {split} line 3 repeats 's0' (first on line 1)"),
        ("sub/../s0", "duplicate sample: images {img} and {alias} are both the image {img}"),
    ],
    ids=["same_line", "same_file_by_another_path"],
)
def test_split_file_naming_one_image_twice_is_a_duplicate(tmp_path, second, message):
    root = _write(tmp_path, 2)
    for sub in ("img", "ann"):
        (root / sub / "sub").mkdir()
    (root / "split.txt").write_text(f"s0\ns1\n{second}\n")
    with pytest.raises(DataError) as info:
        _dataset(root, ann_file="split.txt")
    img, alias = root / "img" / "s0.png", root / "img" / "sub" / ".." / "s0.png"
    assert message.format(split=root / "split.txt", img=img, alias=alias) in str(info.value)


def test_two_images_sharing_a_label_file_is_a_duplicate(tmp_path):
    # img/alias/s0.png is a second image, but ann/alias is a link to ann/: one label file.
    root = _write(tmp_path, 1)
    (root / "img" / "alias").mkdir()
    cv2.imwrite(str(root / "img" / "alias" / "s0.png"), _bgr(5))
    (root / "ann" / "alias").symlink_to(root / "ann", target_is_directory=True)
    with pytest.raises(DataError, match="duplicate sample") as info:
        _dataset(root)
    assert f"both the label file {root / 'ann' / 's0.png'}" in str(info.value)
    assert str(root / "img" / "alias" / "s0.png") in str(info.value)


def test_skip_bad_samples_logs_counts_and_substitutes_the_next(tmp_path, logged):
    root = _write(tmp_path, 5)
    bad = [root / "img" / "s1.png", root / "ann" / "s2.png"]  # adjacent: s1 -> s2 -> s3
    bad[0].write_bytes(b"")
    cv2.imwrite(str(bad[1]), np.zeros((H + 1, W), np.uint8))
    ds = _dataset(root, test_mode=False, skip_bad_samples=True)
    items = [ds[i] for i in range(len(ds))]
    names = [Path(item["img_path"]).name for item in items]
    assert names == ["s0.png", "s3.png", "s3.png", "s3.png", "s4.png"]
    np.testing.assert_array_equal(items[1]["img"], _bgr(3))
    assert ds.skipped == 2
    assert sorted(ds.bad_samples) == [str(root / "img" / "s1.png"), str(root / "img" / "s2.png")]
    assert len(logged) == 2  # once per bad sample, not on every visit
    assert str(bad[0]) in logged[0] and "empty file" in logged[0]
    assert str(bad[1]) in logged[1] and f"has size {(H + 1, W)}" in logged[1]


def test_skip_bad_samples_raises_when_every_sample_is_bad(tmp_path, logged):
    root = _write(tmp_path, 2)
    for i in range(2):
        (root / "img" / f"s{i}.png").write_bytes(b"broken")
    ds = _dataset(root, test_mode=False, skip_bad_samples=True)
    with pytest.raises(
        DataError, match="none of the 2 samples loads .*2 bad; e.g. cannot decode image .*s1.png"
    ):
        ds[1]
    assert ds.skipped == 2 and len(logged) == 2


def test_skip_bad_samples_drops_an_image_without_labels_at_construction(tmp_path, logged):
    root = _write(tmp_path, 3)
    (root / "ann" / "s1.png").unlink()
    ds = _dataset(root, test_mode=False, skip_bad_samples=True, pipeline=[])
    assert len(ds) == 2 and ds.skipped == 1
    assert str(root / "img" / "s1.png") in logged[0]
    assert str(root / "ann" / "s1.png") in logged[0]


def test_skip_bad_samples_is_refused_for_evaluation(tmp_path):
    with pytest.raises(ConfigError, match="training datasets only"):
        _dataset(_write(tmp_path, 1), test_mode=True, skip_bad_samples=True)


def test_without_skip_bad_samples_training_mode_raises_too(tmp_path):
    root = _write(tmp_path, 2)
    (root / "img" / "s0.png").write_bytes(b"broken")
    with pytest.raises(DataError, match=str(root / "img" / "s0.png")):
        _dataset(root, test_mode=False)[0]
