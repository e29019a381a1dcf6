"""Base class of segmentors: the three forward modes and the shared post-processing."""

from abc import ABCMeta, abstractmethod
from collections.abc import Sequence

import torch
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from vipseg.models.utils import resize
from vipseg.structures import SegDataSample


class BaseSegmentor(BaseModel, metaclass=ABCMeta):
    """Contract: ``forward(inputs, data_samples, mode)`` with

    - ``mode='loss'``: a dict of named loss tensors (keys containing ``loss`` are summed by
      mmengine into the total) plus logged values such as ``acc_seg``;
    - ``mode='predict'``: the data samples, each with ``seg_logits`` and ``pred_sem_seg`` at
      its original image size;
    - ``mode='tensor'``: the raw logits of the decode head, for export and benchmarks.

    ``inputs`` is the normalized ``(N, 3, H, W)`` batch made by the data preprocessor.
    """

    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: Sequence[SegDataSample] | None = None,
        mode: str = "tensor",
    ):
        if mode == "loss":
            return self.loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        if mode == "tensor":
            return self._forward(inputs)
        raise ValueError(f"forward mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    @abstractmethod
    def loss(self, inputs: torch.Tensor, data_samples: Sequence[SegDataSample]) -> dict:
        """Losses of a training batch."""

    @abstractmethod
    def predict(
        self, inputs: torch.Tensor, data_samples: Sequence[SegDataSample] | None
    ) -> list[SegDataSample]:
        """Predictions at the original image sizes."""

    @abstractmethod
    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Raw logits."""

    @staticmethod
    def postprocess_result(
        seg_logits: torch.Tensor, data_samples: Sequence[SegDataSample] | None
    ) -> list[SegDataSample]:
        """Undo padding, flip and resizing of batch logits and store them in the samples.

        ``seg_logits`` is ``(N, K, H, W)`` at the batch input size. Each sample's logits are
        cropped to its ``img_shape`` (the size before padding), flipped back if the pipeline
        flipped it, and resized bilinearly to ``ori_shape``.
        """
        if data_samples is None:
            data_samples = [
                SegDataSample(
                    metainfo=dict(img_shape=seg_logits.shape[2:], ori_shape=seg_logits.shape[2:])
                )
                for _ in range(seg_logits.shape[0])
            ]
        for logits, sample in zip(seg_logits, data_samples):
            meta = sample.metainfo
            h, w = meta.get("img_shape", logits.shape[1:])
            logits = logits[:, :h, :w]
            if meta.get("flip", False):
                dims = {"horizontal": (2,), "vertical": (1,), "diagonal": (1, 2)}
                logits = logits.flip(dims[meta["flip_direction"]])
            logits = resize(logits[None], meta.get("ori_shape", (h, w)))[0]
            sample.seg_logits = PixelData(data=logits)
            # max().indices, not argmax(): on CPU it is ~3x faster over the channel dim.
            sample.pred_sem_seg = PixelData(data=logits.max(dim=0, keepdim=True).indices)
        return list(data_samples)
