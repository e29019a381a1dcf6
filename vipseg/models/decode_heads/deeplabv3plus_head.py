"""DeepLabV3+'s head (Chen et al. 2018, "Encoder-Decoder with Atrous Separable Convolution",
arXiv 1802.02611): ASPP on the high-level features plus a decoder that restores detail from
a low-level backbone feature."""

from collections.abc import Sequence

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.model import Sequential

from vipseg.models.utils import resize
from vipseg.registry import MODELS

from .aspp_head import ASPPHead


@MODELS.register_module()
class DeepLabV3PlusHead(ASPPHead):
    """ASPP encoder (as :class:`ASPPHead`) + DeepLabV3+ decoder.

    The decoder reduces the low-level feature (backbone stage 1, output stride 4) to
    ``c1_channels`` with a 1x1 conv, up-samples the ASPP output bilinearly to its size,
    concatenates both and refines them with two 3x3 convs before the classifier. The paper
    keeps the low-level projection narrow (48) so the encoder's semantics dominate.

    Shapes: ``inputs[in_index]`` (N, in_channels, H/8 or H/16, ...) and ``inputs[c1_in_index]``
    (N, c1_in_channels, H/4, W/4) -> logits (N, num_classes, H/4, W/4).

    Args:
        in_channels: channels of the high-level feature the ASPP reads.
        channels: width of the ASPP branches and of the decoder's 3x3 convs (256 in the paper).
        c1_in_channels: channels of the low-level feature.
        c1_channels: its width after the 1x1 projection (48 in the paper).
        c1_in_index: which backbone output is the low-level feature.
        separable: depthwise separable 3x3 convs in the ASPP's atrous branches and in the
            decoder (the paper's "atrous separable convolution"); plain convs otherwise.
        dilations: ASPP rates, (1, 12, 24, 36) for output stride 8, (1, 6, 12, 18) for 16.
        See :class:`ASPPHead` and :class:`BaseDecodeHead` for the rest.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        *,
        num_classes: int,
        c1_in_channels: int,
        c1_channels: int = 48,
        c1_in_index: int = 0,
        separable: bool = False,
        dilations: Sequence[int] = (1, 6, 12, 18),
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
            dilations=dilations,
            separable=separable,
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
        if c1_channels < 1:
            raise ValueError(f"DeepLabV3PlusHead: c1_channels must be >= 1, got {c1_channels}")
        self.c1_in_index = c1_in_index
        layer = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.c1_bottleneck = ConvModule(c1_in_channels, c1_channels, 1, **layer)
        refine = DepthwiseSeparableConvModule if separable else ConvModule
        self.decoder = Sequential(
            refine(channels + c1_channels, channels, 3, padding=1, **layer),
            refine(channels, channels, 3, padding=1, **layer),
        )

    def _forward_feature(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        aspp = super()._forward_feature(inputs)
        low = self.c1_bottleneck(inputs[self.c1_in_index])
        aspp = resize(aspp, low.shape[2:], align_corners=self.align_corners)
        return self.decoder(torch.cat([aspp, low], dim=1))
