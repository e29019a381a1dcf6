"""Moves a batch to the device, augments it there if configured, normalizes, pads and stacks it."""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from vipseg.registry import MODELS

from .batch_augments.base import BatchAugment, DeviceTransform


@MODELS.register_module()
class SegDataPreProcessor(BaseDataPreprocessor):
    """Turns the collated uint8 images of the data loader into a normalized float batch.

    Images travel as uint8 from the workers (4x less to copy than float) and are converted
    here, on the training device. Each image is padded at the bottom/right to ``size`` (in
    training) or to the largest image of the batch rounded up to ``size_divisor``; labels are
    padded with ``seg_pad_val`` so the padding never counts in the loss.

    Args:
        mean, std: per-channel statistics in the output channel order (RGB if
            ``bgr_to_rgb``), on the 0-255 scale.
        bgr_to_rgb: flip the channel order of the cv2-decoded images.
        size: ``(h, w)`` every training batch is padded to (the crop size).
        size_divisor: pad the batch to a multiple of this when ``size`` is not given or in
            prediction.
        pad_val: value of padded image pixels after normalization.
        seg_pad_val: value of padded label pixels.
        device_pipeline: :class:`DeviceTransform` configs run on each training sample before
            padding (the GPU path: resize, crop, flip, photometric distortion on the device,
            so the CPU workers only decode). Updates each sample's ``img_shape``.
        batch_augments: :class:`BatchAugment` configs (CutMix, ClassMix, CopyBlob) run in
            order on the normalized, padded training batch.
        channels_last: return the batch in channels-last memory format (NHWC strides); the
            segmentor then converts its weights too, so cuDNN picks its NHWC kernels, which
            use the tensor cores without transposes. ``tools/train.py`` turns it on where CUDA
            is available and the config's ``channels_last`` is set (``default_runtime.py``).
        non_blocking: copy batches to the device asynchronously (from pinned memory the copy
            overlaps the previous step; ``tools/train.py`` pins the loaders' memory on CUDA).

    Adds ``batch_input_shape`` and ``pad_shape`` to every data sample's metainfo. Neither
    augmentation stage runs outside training.
    """

    def __init__(
        self,
        mean: Sequence[float] = (123.675, 116.28, 103.53),
        std: Sequence[float] = (58.395, 57.12, 57.375),
        bgr_to_rgb: bool = True,
        size: Sequence[int] | None = None,
        size_divisor: int | None = None,
        pad_val: float = 0.0,
        seg_pad_val: int = 255,
        device_pipeline: Sequence[dict | Callable] | None = None,
        batch_augments: Sequence[dict | Callable] | None = None,
        channels_last: bool = False,
        non_blocking: bool = True,
    ):
        super().__init__(non_blocking=non_blocking)
        self.channels_last = channels_last
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f"mean and std need 3 values, got {mean} and {std}")
        self.register_buffer("mean", torch.tensor(mean).view(-1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(-1, 1, 1), persistent=False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val
        self.device_pipeline = _build_stage(device_pipeline, DeviceTransform, "device_pipeline")
        self.batch_augments = _build_stage(batch_augments, BatchAugment, "batch_augments")

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs, data_samples = data["inputs"], data.get("data_samples")
        inputs = [img.float().flip(0) if self.bgr_to_rgb else img.float() for img in inputs]
        if training and self.device_pipeline:
            inputs = self._run_device_pipeline(inputs, data_samples)
        target = self._target_size(inputs, training)
        batch = [self._pad((img - self.mean) / self.std, target, self.pad_val) for img in inputs]
        if data_samples is not None:
            for sample in data_samples:
                sample.set_metainfo(dict(batch_input_shape=target, pad_shape=target))
                for field in ("gt_sem_seg", "gt_instance_map"):
                    if field in sample:
                        # PixelData fixes its size once set, so a padded copy replaces it.
                        padded = self._pad(getattr(sample, field).data, target, self.seg_pad_val)
                        setattr(sample, field, PixelData(data=padded))
        batch = torch.stack(batch)
        if training and self.batch_augments:
            batch = self._run_batch_augments(batch, data_samples)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return dict(inputs=batch, data_samples=data_samples)

    def _run_device_pipeline(self, inputs: list[torch.Tensor], data_samples) -> list:
        if data_samples is None or any("gt_sem_seg" not in s for s in data_samples):
            raise ValueError("the data_preprocessor device_pipeline needs gt_sem_seg labels")
        out = []
        for img, sample in zip(inputs, data_samples, strict=True):
            if "gt_instance_map" in sample:
                raise ValueError(
                    "the device_pipeline moves gt_sem_seg only; drop instance maps from the "
                    f"training pipeline ({sample.metainfo.get('img_path', 'a training sample')})"
                )
            seg = sample.gt_sem_seg.data
            for transform in self.device_pipeline:
                img, seg = transform(img, seg)
            sample.gt_sem_seg = PixelData(data=seg)
            sample.set_metainfo(dict(img_shape=tuple(img.shape[-2:])))
            out.append(img)
        return out

    def _run_batch_augments(self, batch: torch.Tensor, data_samples) -> torch.Tensor:
        if data_samples is None or any("gt_sem_seg" not in s for s in data_samples):
            raise ValueError("the data_preprocessor batch_augments need gt_sem_seg labels")
        labels = torch.cat([s.gt_sem_seg.data for s in data_samples])
        for augment in self.batch_augments:
            batch, labels = augment(batch, labels)
        for sample, label in zip(data_samples, labels, strict=True):
            sample.gt_sem_seg = PixelData(data=label[None])
        return batch

    def _target_size(self, inputs: Sequence[torch.Tensor], training: bool) -> tuple[int, int]:
        h = max(img.shape[1] for img in inputs)
        w = max(img.shape[2] for img in inputs)
        if training and self.size is not None:
            if h > self.size[0] or w > self.size[1]:
                raise ValueError(
                    f"a training image of size {(h, w)} is larger than the "
                    f"data_preprocessor size {self.size}; crop it in the pipeline"
                )
            return self.size
        if self.size_divisor:
            d = self.size_divisor
            h, w = -(-h // d) * d, -(-w // d) * d
        return h, w

    @staticmethod
    def _pad(x: torch.Tensor, size: tuple[int, int], value: float) -> torch.Tensor:
        pad_h, pad_w = size[0] - x.shape[-2], size[1] - x.shape[-1]
        if pad_h == 0 and pad_w == 0:
            return x
        return F.pad(x, (0, pad_w, 0, pad_h), value=value)


def _build_stage(cfgs: Sequence[dict | Callable] | None, kind: type, key: str) -> list:
    """Build the configs of one augmentation stage; an entry of the wrong kind is an error."""
    stage = [MODELS.build(cfg) if isinstance(cfg, dict) else cfg for cfg in cfgs or ()]
    for entry in stage:
        if not isinstance(entry, kind):
            raise TypeError(
                f"data_preprocessor.{key} takes {kind.__name__}s, got {type(entry).__name__}; "
                "per-sample device transforms go in device_pipeline, mixing in batch_augments"
            )
    return stage
