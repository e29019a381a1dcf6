"""Base class of decode heads: features in, logits out, losses from the logits."""

from abc import ABCMeta, abstractmethod
from collections.abc import Sequence

import torch
from mmengine.model import BaseModule, ModuleList
from torch import nn

from vipseg.models.layers.norm_act import act_cfg_for, resolve_norm_cfg
from vipseg.models.losses import accuracy
from vipseg.models.utils import resize, stack_gt
from vipseg.registry import MODELS


class BaseDecodeHead(BaseModule, metaclass=ABCMeta):
    """Contract: ``forward(feats)`` maps the backbone's tuple of feature maps to logits
    ``(N, num_classes, h, w)`` at the head's own resolution; :meth:`loss` and :meth:`predict`
    are the two entry points a segmentor calls. Subclasses implement ``_forward_feature``
    (features -> ``(N, channels, h, w)``); the final 1x1 classifier is shared here.

    Args:
        in_channels: channels of the selected input feature map.
        channels: width of the head's hidden layers.
        num_classes: number of classes (set it in leaf configs).
        in_index: which backbone output the head reads.
        dropout_ratio: dropout before the classifier.
        conv_cfg, norm_cfg, act_cfg: mmcv layer configs for the head's ConvModules; with an
            EvoNorm ``norm_cfg`` leave ``act_cfg`` unset (the norm is the activation).
        loss_decode: one loss config or a list (default: cross entropy); each loss's
            ``loss_name`` keys the loss dict, equal names are summed.
        ignore_index: label value the losses and accuracy skip.
        align_corners: for the bilinear up-sampling of logits.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        *,
        num_classes: int,
        in_index: int = -1,
        dropout_ratio: float = 0.1,
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        act_cfg: dict | None = None,
        loss_decode: dict | Sequence[dict] | None = None,
        ignore_index: int = 255,
        align_corners: bool = False,
        init_cfg: dict | list[dict] | None = None,
    ):
        if init_cfg is None:
            init_cfg = dict(type="Normal", std=0.01, override=dict(name="conv_seg"))
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        self.in_channels = in_channels
        self.channels = channels
        self.num_classes = num_classes
        self.in_index = in_index
        self.conv_cfg = conv_cfg
        # The type is resolved in vipseg's registry (no default scope needed), and a
        # norm-activation layer (EvoNorm) gets no activation after it: layers/norm_act.py.
        self.norm_cfg = resolve_norm_cfg(norm_cfg or dict(type="BN", requires_grad=True))
        self.act_cfg = act_cfg_for(self.norm_cfg, act_cfg)
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        if loss_decode is None:
            loss_decode = dict(type="CrossEntropyLoss")
        configs = [loss_decode] if isinstance(loss_decode, dict) else list(loss_decode)
        self.loss_decode = ModuleList(MODELS.build(cfg) for cfg in configs)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)

    @abstractmethod
    def _forward_feature(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Features of the backbone -> ``(N, channels, h, w)``."""

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.conv_seg(self.dropout(self._forward_feature(inputs)))

    def loss(self, inputs: Sequence[torch.Tensor], data_samples: Sequence) -> dict:
        """Losses (and pixel accuracy) of this head against ``gt_sem_seg``."""
        return self.loss_by_feat(self.forward(inputs), data_samples)

    def predict(
        self, inputs: Sequence[torch.Tensor], batch_input_shape: Sequence[int]
    ) -> torch.Tensor:
        """Logits up-sampled to the (padded) batch input size ``(h, w)``."""
        return resize(self.forward(inputs), batch_input_shape, align_corners=self.align_corners)

    def loss_by_feat(self, seg_logits: torch.Tensor, data_samples: Sequence) -> dict:
        label = stack_gt(data_samples)
        seg_logits = resize(seg_logits, label.shape[-2:], align_corners=self.align_corners)
        losses: dict[str, torch.Tensor] = {}
        for loss_module in self.loss_decode:
            value = loss_module(seg_logits, label)
            name = loss_module.loss_name
            losses[name] = losses[name] + value if name in losses else value
        losses["acc_seg"] = accuracy(seg_logits, label, self.ignore_index)
        return losses
