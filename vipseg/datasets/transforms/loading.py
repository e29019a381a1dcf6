"""Transforms that read an image and its label maps from disk."""

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from vipseg.registry import TRANSFORMS
from vipseg.utils.errors import DataError, MissingDataError

_JPEG, _PNG = b"\xff\xd8", b"\x89PNG\r\n\x1a\n"


def _truncation(data: bytes) -> str | None:
    """Why a JPEG/PNG file is cut short, or None. Some OpenCV builds decode a truncated JPEG
    to a half-gray image with only a warning; this catches it from the bytes in memory."""
    # Fast path for complete files: the end marker is in the last bytes. Otherwise the last
    # end marker must follow the last scan / data chunk (trailing junk is tolerated).
    if data.startswith(_JPEG) and not data.endswith(b"\xff\xd9"):
        if data.rfind(b"\xff\xd9") <= data.rfind(b"\xff\xda"):
            return "truncated JPEG: no end-of-image marker after the last scan"
    elif data.startswith(_PNG) and data[-8:-4] != b"IEND":
        if data.rfind(b"IEND") <= data.rfind(b"IDAT"):
            return "truncated PNG: no IEND chunk after the last IDAT chunk"
    return None


def read_image(path: str, flags: int) -> np.ndarray:
    """Decode the file at ``path`` with cv2 ``flags``; one clear error naming the file."""
    # open() + imdecode (not cv2.imread) so non-ASCII paths work, a decode failure can be
    # told apart from a missing file, and the bytes can be checked before decoding.
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise MissingDataError(f"file not found: {path}") from None
    except OSError as error:  # a folder, no permission, an I/O error
        raise DataError(f"cannot read image {path}: {error.strerror}") from None
    reason = "empty file" if not data else _truncation(data)
    img = None if reason else cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None:
        reason = reason or "not a readable image"
        raise DataError(f"cannot decode image {path}: {reason} ({len(data)} bytes)")
    return img


def _add_seg_field(results: dict, key: str) -> None:
    fields = results.setdefault("seg_fields", [])
    if key not in fields:
        fields.append(key)


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """Load a color image as BGR (cv2's channel order).

    Any decodable image becomes 3-channel 8-bit: a grayscale one is repeated into 3 channels,
    an alpha channel is dropped, and 16-bit values are scaled to 8 bits (``v >> 8``, OpenCV's
    ``IMREAD_COLOR``), so a full-range 16-bit image looks as in a viewer. An empty, truncated
    or undecodable file raises ``DataError`` naming it; a missing one ``MissingDataError``.

    Required keys: ``img_path``.
    Added keys: ``img`` (H, W, 3 uint8, or float32 with ``to_float32``), ``img_shape`` and
    ``ori_shape`` (both ``(h, w)``).

    Args:
        to_float32: convert the image to float32. Off by default: images stay uint8 until the
            data preprocessor normalizes them on the device.
    """

    def __init__(self, to_float32: bool = False):
        self.to_float32 = bool(to_float32)

    def transform(self, results: dict) -> dict:
        img = read_image(results["img_path"], cv2.IMREAD_COLOR)
        if self.to_float32:
            img = img.astype(np.float32)
        results["img"] = img
        results["img_shape"] = img.shape[:2]
        results["ori_shape"] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(to_float32={self.to_float32})"


@TRANSFORMS.register_module()
class LoadAnnotations(BaseTransform):
    """Load the semantic label map (mapped to train IDs) and optionally the instance map.

    Required keys: ``seg_map_path``; ``instance_map_path`` with ``with_instance``.
    Optional keys: ``label_map`` (256-entry int lookup table from stored value to class
    index, -1 = value not in the dataset's label table; absent/None = identity),
    ``num_classes``, ``ignore_index`` (default 255), ``img_path``, ``ori_shape`` /
    ``img_shape`` (checked against the label map's size).
    Added keys: ``gt_seg_map`` (H, W uint8), ``seg_fields``, and with ``with_instance``
    ``gt_instance_map`` (H, W int32).

    Every problem (unreadable file, size mismatch, stored value not in the label table,
    class index out of range) raises a ``DataError``/``MissingDataError`` naming the file.
    A 16-bit label map holds class values, not intensities: it is accepted when every value
    passes the same checks as an 8-bit one (so all are <= 255), never rescaled.

    Args:
        with_instance: also load the 16-bit instance map (e.g. Cityscapes instanceIds).
    """

    def __init__(self, with_instance: bool = False):
        self.with_instance = bool(with_instance)

    def transform(self, results: dict) -> dict:
        path = results["seg_map_path"]
        raw = self._read_2d(path)
        self._check_shape(results, raw.shape, path)
        results["gt_seg_map"] = self._to_train_ids(raw, results, path)
        _add_seg_field(results, "gt_seg_map")
        if self.with_instance:
            inst_path = results["instance_map_path"]
            inst = self._read_2d(inst_path)
            if inst.shape != raw.shape:
                raise DataError(
                    f"instance map {inst_path} has size {inst.shape} but label map {path} "
                    f"has size {raw.shape}"
                )
            results["gt_instance_map"] = inst.astype(np.int32)
            _add_seg_field(results, "gt_instance_map")
        return results

    @staticmethod
    def _read_2d(path: str) -> np.ndarray:
        # IMREAD_UNCHANGED keeps 16-bit values; a color PNG is an error, not silently grayed.
        arr = read_image(path, cv2.IMREAD_UNCHANGED)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer):
            raise DataError(
                f"label file {path} must be a single-channel integer image, "
                f"got shape {arr.shape} dtype {arr.dtype}"
            )
        return arr

    @staticmethod
    def _check_shape(results: dict, shape: tuple[int, int], path: str) -> None:
        # ori_shape first: a geometric transform may already have changed img_shape.
        img_shape = results.get("ori_shape", results.get("img_shape"))
        if img_shape is not None and tuple(img_shape[:2]) != tuple(shape):
            raise DataError(
                f"label map {path} has size {tuple(shape)} but image "
                f"{results.get('img_path', '<unknown>')} has size {tuple(img_shape[:2])}"
            )

    @staticmethod
    def _to_train_ids(raw: np.ndarray, results: dict, path: str) -> np.ndarray:
        lut = results.get("label_map")
        lut = np.arange(256, dtype=np.int16) if lut is None else np.asarray(lut)
        if lut.shape != (256,) or not np.issubdtype(lut.dtype, np.integer):
            raise ValueError(f"label_map must be 256 integers, got {lut.shape} {lut.dtype}")
        if raw.dtype != np.uint8:
            too_big = (raw < 0) | (raw > 255)
            if too_big.any():
                raise DataError(
                    f"label map {path} has stored values {np.unique(raw[too_big]).tolist()} "
                    "outside 0..255, which are not in the label table"
                )
            raw = raw.astype(np.uint8)
        ignore_index = results.get("ignore_index", 255)
        num_classes = results.get("num_classes")
        upper = 256 if num_classes is None else num_classes
        unknown = lut == -1
        out_of_range = ~unknown & ((lut < 0) | (lut >= upper)) & (lut != ignore_index)
        out_of_range |= ~unknown & (lut > 255)
        bad = unknown | out_of_range
        # The full-map scan is one table lookup plus .any(); np.unique only on the error path.
        if bad.any() and bad[raw].any():
            values = np.unique(raw[bad[raw]])
            unknown_vals = values[unknown[values]].tolist()
            if unknown_vals:
                raise DataError(
                    f"label map {path} has stored values {unknown_vals} that are not in the "
                    "dataset's label table"
                )
            pairs = ", ".join(f"{v}->{lut[v]}" for v in values.tolist())
            raise DataError(
                f"label map {path} has values mapping to class indices outside "
                f"[0, {upper}) that are not ignore_index={ignore_index}: {pairs} "
                "(stored->class)"
            )
        return cv2.LUT(raw, lut.astype(np.uint8))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(with_instance={self.with_instance})"
