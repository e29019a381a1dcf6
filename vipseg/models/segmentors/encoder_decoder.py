"""The encoder-decoder segmentor: backbone (+ neck) -> decode head (+ auxiliary heads)."""

from collections.abc import Sequence

import torch
from mmengine.model import ModuleList

from vipseg.models.utils.sync_bn import adapt_sync_bn
from vipseg.registry import MODELS
from vipseg.structures import SegDataSample

from .base import BaseSegmentor


@MODELS.register_module()
class EncoderDecoder(BaseSegmentor):
    """Backbone features -> decode head logits, with optional auxiliary heads in training.

    Call chain of a training step (three hops from config to loss)::

        config model=dict(type='EncoderDecoder', decode_head=dict(type='ASPPHead',
                          loss_decode=dict(type='CrossEntropyLoss')))
        EncoderDecoder.loss(inputs, data_samples)     # feats = backbone(inputs)
          -> ASPPHead.loss(feats, data_samples)       # logits, upsampled to the label size
            -> CrossEntropyLoss(logits, labels)        # one scalar per loss_name

    Prediction: ``predict`` -> ``inference`` (whole image or sliding window) ->
    ``decode_head.predict`` -> ``postprocess_result`` (un-pad, un-flip, resize to the
    original size).

    Args:
        backbone, decode_head: configs of registered modules; the head's ``num_classes`` is
            the segmentor's.
        neck: optional module between backbone and heads.
        auxiliary_head: one config or a list; used in training only.
        test_cfg: ``dict(mode='whole')`` or ``dict(mode='slide', crop_size=(h, w),
            stride=(h, w))``.
        data_preprocessor: config of the :class:`SegDataPreProcessor` (its defaults if None).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint='local.pth')``.
    """

    def __init__(
        self,
        backbone: dict,
        decode_head: dict,
        neck: dict | None = None,
        auxiliary_head: dict | Sequence[dict] | None = None,
        test_cfg: dict | None = None,
        data_preprocessor: dict | None = None,
        init_cfg: dict | list[dict] | None = None,
    ):
        # Built here, in vipseg's registry, so it works without a default scope too.
        preprocessor = MODELS.build(data_preprocessor or dict(type="SegDataPreProcessor"))
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.decode_head = MODELS.build(decode_head)
        self.num_classes = self.decode_head.num_classes
        aux_cfgs = [auxiliary_head] if isinstance(auxiliary_head, dict) else auxiliary_head or []
        self.auxiliary_heads = ModuleList(MODELS.build(cfg) for cfg in aux_cfgs)
        self.test_cfg = self._check_test_cfg(test_cfg or dict(mode="whole"))
        # SyncBN: BN in one process, GlooSyncBatchNorm in a CPU group (see utils/sync_bn.py).
        adapt_sync_bn(self)
        if getattr(self.data_preprocessor, "channels_last", False):
            # Weights in NHWC too, or every convolution would transpose its input back.
            self.to(memory_format=torch.channels_last)

    @staticmethod
    def _check_test_cfg(test_cfg: dict) -> dict:
        mode = test_cfg.get("mode", "whole")
        allowed = {"whole": {"mode"}, "slide": {"mode", "crop_size", "stride"}}
        if mode not in allowed:
            raise ValueError(f"model.test_cfg.mode must be 'whole' or 'slide', got {mode!r}")
        unknown = set(test_cfg) - allowed[mode]
        missing = allowed[mode] - set(test_cfg) - {"mode"}
        if unknown or missing:
            raise ValueError(
                f"model.test_cfg for mode {mode!r}: unknown keys {sorted(unknown)}, "
                f"missing keys {sorted(missing)}"
            )
        return dict(test_cfg, mode=mode)

    def extract_feat(self, inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[SegDataSample]) -> dict:
        feats = self.extract_feat(inputs)
        losses = {f"decode.{k}": v for k, v in self.decode_head.loss(feats, data_samples).items()}
        for i, head in enumerate(self.auxiliary_heads):
            prefix = "aux" if len(self.auxiliary_heads) == 1 else f"aux_{i}"
            losses.update({f"{prefix}.{k}": v for k, v in head.loss(feats, data_samples).items()})
        return losses

    def predict(
        self, inputs: torch.Tensor, data_samples: Sequence[SegDataSample] | None = None
    ) -> list[SegDataSample]:
        return self.postprocess_result(self.inference(inputs), data_samples)

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.decode_head(self.extract_feat(inputs))

    def encode_decode(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits at the size of ``inputs``."""
        return self.decode_head.predict(self.extract_feat(inputs), inputs.shape[2:])

    def inference(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, K, H, W)`` at the batch input size, by whole image or sliding window."""
        if self.test_cfg["mode"] == "slide":
            return self.slide_inference(inputs)
        return self.encode_decode(inputs)

    def slide_inference(self, inputs: torch.Tensor) -> torch.Tensor:
        """Average the logits of overlapping ``crop_size`` windows moved by ``stride``."""
        crop_h, crop_w = self.test_cfg["crop_size"]
        stride_h, stride_w = self.test_cfg["stride"]
        n, _, h, w = inputs.shape
        logits = inputs.new_zeros((n, self.num_classes, h, w))
        count = inputs.new_zeros((1, 1, h, w))
        for y in self._window_starts(h, crop_h, stride_h):
            for x in self._window_starts(w, crop_w, stride_w):
                y2, x2 = min(y + crop_h, h), min(x + crop_w, w)
                logits[:, :, y:y2, x:x2] += self.encode_decode(inputs[:, :, y:y2, x:x2])
                count[:, :, y:y2, x:x2] += 1
        return logits / count

    @staticmethod
    def _window_starts(size: int, crop: int, stride: int) -> list[int]:
        if size <= crop:
            return [0]
        # The last window is aligned to the border so every pixel is covered.
        return sorted(set(range(0, size - crop, stride)) | {size - crop})
