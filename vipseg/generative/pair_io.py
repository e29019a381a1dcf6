"""Reading training pairs for editing, and writing synthetic pairs in the source's layout."""

import os
import os.path as osp

import cv2
import numpy as np

from vipseg.datasets.transforms import LoadAnnotations
from vipseg.datasets.transforms.loading import read_image
from vipseg.utils.errors import ConfigError, DataError

from .label_edits import Pair


def read_pair(dataset, index: int, with_image: bool) -> Pair:
    """Sample ``index`` of a labelled vipseg dataset: stored values, class map (checked by
    ``LoadAnnotations``, so a bad file is one error naming it), instances, RGB image."""
    info = dataset.get_data_info(index)
    if "seg_map_path" not in info:
        raise ConfigError(f"{type(dataset).__name__}: {info['img_path']} has no label map")
    with_instance = "instance_map_path" in info
    loaded = LoadAnnotations(with_instance=with_instance)(dict(info))
    raw = LoadAnnotations._read_2d(info["seg_map_path"])
    image = None
    if with_image:
        image = cv2.cvtColor(read_image(info["img_path"], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        if image.shape[:2] != raw.shape:
            raise DataError(
                f"label map {info['seg_map_path']} has size {raw.shape} but image "
                f"{info['img_path']} has size {image.shape[:2]}"
            )
    return Pair(
        raw=raw,
        classes=loaded["gt_seg_map"],
        instance=loaded.get("gt_instance_map"),
        image=image,
        provenance=dict(base=info["img_path"]),
    )


class LayoutWriter:
    """Writes pair ``k`` as ``synthetic/syn_{k:06d}`` under each of the source dataset's
    prefixes in ``out_root``, with its suffixes: the synthetic split loads with the source's
    dataset class and ``data_prefix``, only ``data_root`` changes.

    Images with a ``.jpg``/``.jpeg`` suffix are written at JPEG quality 95, others as PNG;
    label and instance maps keep their stored values (16-bit PNG where needed).
    """

    SUBFOLDER = "synthetic"

    def __init__(self, dataset, out_root: str):
        root = dataset.data_root
        self.out_root = out_root
        self.prefixes = {k: osp.relpath(v, root) for k, v in dataset.data_prefix.items() if v}
        self.suffixes = dict(
            img_path=dataset.img_suffix,
            seg_map_path=dataset.seg_map_suffix,
            instance_map_path=getattr(dataset, "instance_suffix", None),
        )
        self.prefixes.setdefault("instance_map_path", self.prefixes.get("seg_map_path"))
        for key in ("img_path", "seg_map_path"):
            folder = osp.join(out_root, self.prefixes[key], self.SUBFOLDER)
            if osp.isdir(folder) and os.listdir(folder):
                raise ConfigError(f"{folder} is not empty: synthesize into a new --out folder")

    def path(self, key: str, k: int) -> str:
        name = f"syn_{k:06d}{self.suffixes[key]}"
        return osp.join(self.out_root, self.prefixes[key], self.SUBFOLDER, name)

    def write(self, k: int, pair: Pair) -> dict:
        """Write the pair's files; returns their paths relative to ``out_root``."""
        written = dict(img_path=self._image(self.path("img_path", k), pair.image))
        written["seg_map_path"] = self._map(self.path("seg_map_path", k), pair.raw)
        if pair.instance is not None and self.suffixes["instance_map_path"]:
            written["instance_map_path"] = self._map(
                self.path("instance_map_path", k), pair.instance
            )
        return {key: osp.relpath(p, self.out_root) for key, p in written.items()}

    @staticmethod
    def _image(path: str, rgb: np.ndarray) -> str:
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        params = [cv2.IMWRITE_JPEG_QUALITY, 95] if path.lower().endswith((".jpg", ".jpeg")) else []
        return _imwrite(path, bgr, params)

    @staticmethod
    def _map(path: str, values: np.ndarray) -> str:
        if values.min() < 0 or values.max() > 65535:
            raise DataError(f"{path}: values outside 0..65535 cannot be stored as PNG")
        dtype = np.uint8 if values.max() < 256 and values.dtype == np.uint8 else np.uint16
        return _imwrite(path, values.astype(dtype), [])


def _imwrite(path: str, array: np.ndarray, params: list) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array, params):
        raise OSError(f"could not write {path}")
    return path
