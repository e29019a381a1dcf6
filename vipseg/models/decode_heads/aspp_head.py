"""DeepLabV3's atrous spatial pyramid pooling head (Chen et al. 2017, arXiv 1706.05587)."""

from collections.abc import Sequence

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.model import ModuleList, Sequential
from torch import nn

from vipseg.models.layers.norm_act import is_instance_norm
from vipseg.models.utils import resize
from vipseg.registry import MODELS

from .decode_head import BaseDecodeHead


@MODELS.register_module()
class ASPPHead(BaseDecodeHead):
    """Parallel atrous convolutions plus image-level pooling, fused by a 3x3 convolution.

    Args:
        dilations: one 1x1 branch for dilation 1, a 3x3 branch per other rate; (1, 12, 24, 36)
            for output stride 8, (1, 6, 12, 18) for 16.
        separable: make the 3x3 atrous branches depthwise separable (depthwise 3x3, norm,
            act, pointwise 1x1, norm, act), as DeepLabV3+ does (Chen et al. 2018).
        See :class:`BaseDecodeHead` for the rest.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        *,
        num_classes: int,
        dilations: Sequence[int] = (1, 6, 12, 18),
        separable: bool = False,
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
        super().__init__(
            in_channels,
            channels,
            num_classes=num_classes,
            in_index=in_index,
            dropout_ratio=dropout_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg,
        )
        layer = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        # Instance norm of the pooled 1x1 map would erase it (and raises in training).
        pool_norm = None if is_instance_norm(self.norm_cfg) else self.norm_cfg
        self.image_pool = Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, **dict(layer, norm_cfg=pool_norm)),
        )
        atrous = DepthwiseSeparableConvModule if separable else ConvModule
        self.aspp = ModuleList(
            ConvModule(in_channels, channels, 1, **layer)
            if d == 1
            else atrous(in_channels, channels, 3, dilation=d, padding=d, **layer)
            for d in dilations
        )
        self.bottleneck = ConvModule(
            (len(dilations) + 1) * channels, channels, 3, padding=1, **layer
        )

    def _forward_feature(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        x = inputs[self.in_index]
        pooled = resize(self.image_pool(x), x.shape[2:], align_corners=self.align_corners)
        return self.bottleneck(torch.cat([pooled] + [branch(x) for branch in self.aspp], dim=1))
