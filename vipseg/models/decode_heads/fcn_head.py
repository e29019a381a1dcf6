"""Fully convolutional head (Long et al. 2015), used as DeepLab's auxiliary head."""

from collections.abc import Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import Sequential

from vipseg.registry import MODELS

from .decode_head import BaseDecodeHead


@MODELS.register_module()
class FCNHead(BaseDecodeHead):
    """``num_convs`` 3x3 ConvModules, optionally fused with the input by one more conv.

    Args:
        num_convs: convolutions before the classifier (0 means the classifier reads the input,
            which then needs ``in_channels == channels``).
        kernel_size, dilation: of those convolutions.
        concat_input: concatenate the input with the conv output and fuse with a 3x3 conv.
        See :class:`BaseDecodeHead` for the rest.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        *,
        num_classes: int,
        num_convs: int = 2,
        kernel_size: int = 3,
        dilation: int = 1,
        concat_input: bool = True,
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
        if num_convs == 0 and in_channels != channels:
            raise ValueError("FCNHead with num_convs=0 needs in_channels == channels")
        layer = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        padding = kernel_size // 2 * dilation
        self.convs = Sequential(
            *(
                ConvModule(
                    in_channels if i == 0 else channels,
                    channels,
                    kernel_size,
                    padding=padding,
                    dilation=dilation,
                    **layer,
                )
                for i in range(num_convs)
            )
        )
        self.conv_cat = (
            ConvModule(
                in_channels + channels, channels, kernel_size, padding=kernel_size // 2, **layer
            )
            if concat_input
            else None
        )

    def _forward_feature(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        x = inputs[self.in_index]
        out = self.convs(x)
        if self.conv_cat is not None:
            out = self.conv_cat(torch.cat([x, out], dim=1))
        return out
