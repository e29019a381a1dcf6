"""U-Net (Ronneberger et al. 2015), the VIPriors MiniCity baseline, as an encoder-decoder backbone.

The split: the whole U (encoder and decoder) is the backbone and returns the decoder's feature
maps; the classifier is a 1x1 head (``FCNHead`` with ``num_convs=0``) run by
``EncoderDecoder``. The decoder is where U-Net differs from the ResNet backbones, so it belongs
with the U; the head then only classifies, and the decoder levels it does not read stay
available to auxiliary heads (deep supervision) without new segmentor code.
"""

import math

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, ModuleList
from torch import nn

from vipseg.registry import MODELS

UPSAMPLE_MODES = ("bilinear", "deconv")


class DoubleConv(nn.Sequential):
    """Two 3x3 conv-norm-ReLU layers: the unit of every U-Net level."""

    def __init__(self, in_channels: int, out_channels: int, conv_cfg, norm_cfg: dict):
        layer = dict(padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=dict(type="ReLU"))
        super().__init__(
            ConvModule(in_channels, out_channels, 3, **layer),
            ConvModule(out_channels, out_channels, 3, **layer),
        )


class UpBlock(nn.Module):
    """Up-sample by 2 halving the channels, concatenate the skip, then a :class:`DoubleConv`.

    ``deconv`` is the paper's 2x2 up-convolution; ``bilinear`` interpolates and halves the
    channels with a 1x1 conv, which avoids the checkerboard artefacts of strided transposed
    convolutions at a quarter of their weights.
    """

    def __init__(self, in_channels: int, mode: str, conv_cfg, norm_cfg: dict):
        super().__init__()
        out_channels = in_channels // 2
        if mode == "deconv":
            self.up = nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
        else:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, out_channels, 1),
            )
        self.conv = DoubleConv(2 * out_channels, out_channels, conv_cfg, norm_cfg)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


@MODELS.register_module()
class UNet(BaseModule):
    """U-Net backbone: 4 max-pool down / 4 up levels of :class:`DoubleConv`, skip concatenation.

    Input ``(N, in_channels, H, W)`` of any size: it is zero-padded (bottom, right) to a
    multiple of 16 so every skip matches its up-sampled partner, and the outputs are cropped
    back. Zero is the mean colour after the data preprocessor's normalization.

    Output: the 4 decoder levels, coarse to fine, ``C = base_channels``::

        (N, 8C, ceil(H/8), ceil(W/8)), (N, 4C, ceil(H/4), ...), (N, 2C, ceil(H/2), ...),
        (N, C, H, W)

    The decode head reads the last (``in_index=-1``); auxiliary heads on the others give deep
    supervision. ``feat_channels`` lists the output widths; subclasses change what a skip
    carries into its concatenation by overriding ``_gate_skip``.

    Args:
        in_channels: input image channels.
        base_channels: width of the first level (64 in the paper); each level down doubles it.
        upsample_mode: ``'bilinear'`` (interpolation + 1x1 conv) or ``'deconv'`` (2x2
            transposed conv, as in the paper).
        conv_cfg, norm_cfg: mmcv layer configs; norm defaults to BN, e.g. ``dict(type='GN',
            num_groups=8)``, ``dict(type='IN')`` or ``dict(type='SyncBN')`` also work.
        init_cfg: mmengine init config (default: Kaiming, fan-in, for convs: it keeps the
            one-channel attention logits of :class:`AttentionUNet` at unit scale, where
            fan-out would make them ``sqrt(C)`` times larger and saturate the gates).
    """

    num_levels = 4

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        upsample_mode: str = "bilinear",
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        init_cfg: dict | list[dict] | None = None,
    ):
        if upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(
                f"upsample_mode must be one of {UPSAMPLE_MODES}, got {upsample_mode!r}"
            )
        if base_channels < 1:
            raise ValueError(f"base_channels must be >= 1, got {base_channels}")
        if init_cfg is None:
            init_cfg = [dict(type="Kaiming", mode="fan_in", layer=["Conv2d", "ConvTranspose2d"])]
        super().__init__(init_cfg=init_cfg)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg or dict(type="BN", requires_grad=True)
        widths = [base_channels * 2**i for i in range(self.num_levels + 1)]
        self.encoder = ModuleList(
            DoubleConv(c_in, c_out, conv_cfg, self.norm_cfg)
            for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=True)
        )
        self.pool = nn.MaxPool2d(2)
        # Coarse to fine: decoder[i] up-samples from widths[-1 - i].
        self.decoder = ModuleList(
            UpBlock(c, upsample_mode, conv_cfg, self.norm_cfg) for c in reversed(widths[1:])
        )
        self.feat_channels = tuple(reversed(widths[:-1]))

    @property
    def size_divisor(self) -> int:
        return 2**self.num_levels

    def _gate_skip(self, level: int, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        """Skip connection of decoder ``level`` as it enters the concatenation (plain here)."""
        return skip

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h, w = x.shape[-2:]
        d = self.size_divisor
        x = F.pad(x, (0, -w % d, 0, -h % d))
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        outs = []
        for level, block in enumerate(self.decoder):
            skip = self._gate_skip(level, skips.pop(), x)
            x = block(x, skip)
            scale = 2 ** (self.num_levels - 1 - level)
            outs.append(x[..., : math.ceil(h / scale), : math.ceil(w / scale)])
        return tuple(outs)
