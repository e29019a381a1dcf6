"""Packs a results dict into the model's ``inputs`` tensor and a ``SegDataSample``."""

from collections.abc import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from vipseg.registry import TRANSFORMS
from vipseg.structures.seg_data_sample import SegDataSample

DEFAULT_META_KEYS = (
    "img_path",
    "seg_map_path",
    "ori_shape",
    "img_shape",
    "pad_shape",
    "scale_factor",
    "flip",
    "flip_direction",
    "reduce_zero_label",
)


def _label_tensor(seg: np.ndarray) -> torch.Tensor:
    """(H, W) label array -> (1, H, W) int64 tensor."""
    return torch.from_numpy(np.ascontiguousarray(seg[None], dtype=np.int64))


@TRANSFORMS.register_module()
class PackSegInputs(BaseTransform):
    """Pack the image and labels for the model.

    The image stays uint8: normalization happens on the device in the data preprocessor.

    Required keys: ``img``; optional ``gt_seg_map``, ``gt_instance_map`` and the meta keys.
    Added keys: ``inputs`` (uint8 tensor (C, H, W), channels in the image's order),
    ``data_samples`` (a :class:`SegDataSample` with ``gt_sem_seg`` / ``gt_instance_map`` as
    int64 (1, H, W) and the meta keys that are present as metainfo).

    Args:
        meta_keys: results keys copied into the data sample's metainfo when present.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        if isinstance(meta_keys, str):
            raise ValueError(f"meta_keys must be a sequence of keys, got the string {meta_keys!r}")
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results["img"]
        if img.ndim == 2:
            img = img[..., None]
        packed = {"inputs": torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))}
        sample = SegDataSample()
        if "gt_seg_map" in results:
            sample.gt_sem_seg = PixelData(data=_label_tensor(results["gt_seg_map"]))
        if "gt_instance_map" in results:
            sample.gt_instance_map = PixelData(data=_label_tensor(results["gt_instance_map"]))
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        packed["data_samples"] = sample
        return packed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(meta_keys={self.meta_keys})"
