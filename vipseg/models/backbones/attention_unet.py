"""Attention U-Net (Oktay et al. 2018, arXiv:1804.03999): additive attention gates on the skips."""

import torch
from mmcv.cnn import ConvModule
from torch import nn

from vipseg.models.utils import resize
from vipseg.registry import MODELS

from .unet import UNet


class AttentionGate(nn.Module):
    """Additive attention gate (eq. 1-2 of the paper): ``x * alpha`` with

    ``alpha = sigmoid(psi(ReLU(W_x x + W_g g)))`` computed at the gating signal's resolution
    and resampled bilinearly to the skip's.

    ``W_x`` is a 1x1 conv with stride 2, which brings the skip ``x`` to the resolution of the
    gating signal ``g`` (the next coarser decoder level), as in the paper's gate; ``W_x`` and
    ``W_g`` are followed by the norm (their sum carries the paper's bias ``b_g`` as the norm's
    shift). ``psi`` keeps its own bias ``b_psi`` and no norm: a norm over its single output
    channel would rescale the attention logits per batch (BN) or per image (IN, GN).

    Shapes: ``x (N, C_x, H, W)`` and ``g (N, C_g, ceil(H/2), ceil(W/2))`` ->
    ``(N, C_x, H, W)``; :meth:`attention` returns ``alpha`` as ``(N, 1, H, W)`` in (0, 1).

    Args:
        skip_channels: ``C_x``.
        gate_channels: ``C_g``.
        inter_channels: width of the joint space ``W_x x + W_g g``.
        conv_cfg, norm_cfg: mmcv layer configs of ``W_x`` and ``W_g``.
    """

    def __init__(
        self,
        skip_channels: int,
        gate_channels: int,
        inter_channels: int,
        conv_cfg: dict | None,
        norm_cfg: dict,
    ):
        super().__init__()
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None)
        self.w_x = ConvModule(skip_channels, inter_channels, 1, stride=2, **layer)
        self.w_g = ConvModule(gate_channels, inter_channels, 1, **layer)
        self.psi = nn.Conv2d(inter_channels, 1, 1)

    def attention(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        q = torch.relu(self.w_x(x) + self.w_g(g))
        return resize(torch.sigmoid(self.psi(q)), x.shape[-2:])

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return x * self.attention(x, g)


@MODELS.register_module()
class AttentionUNet(UNet):
    """:class:`UNet` whose skips pass through an :class:`AttentionGate` before concatenation.

    The gate of each decoder level is driven by the coarser level's output (the bottleneck for
    the first), so coarse context decides which skip pixels reach the fine levels. The joint
    space is half as wide as the skip.

    Deep supervision (the paper trains with it) needs no option here: like :class:`UNet`, this
    backbone returns every decoder level, coarse to fine, and ``EncoderDecoder``'s
    ``auxiliary_head`` list attaches a 1x1 classifier with its own loss to any of them by
    ``in_index`` (``configs/unet/attention_unet_*.py`` supervise the 1/2 and 1/4 levels).
    The auxiliary heads run in training only, so inference pays nothing for them.

    Args: as :class:`UNet`.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        upsample_mode: str = "bilinear",
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        init_cfg: dict | list[dict] | None = None,
    ):
        super().__init__(
            in_channels=in_channels,
            base_channels=base_channels,
            upsample_mode=upsample_mode,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            init_cfg=init_cfg,
        )
        # Decoder level i: skip of width feat_channels[i], gated by a map twice as wide.
        self.gates = nn.ModuleList(
            AttentionGate(c, 2 * c, max(c // 2, 1), conv_cfg, self.norm_cfg)
            for c in self.feat_channels
        )

    def _gate_skip(self, level: int, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        return self.gates[level](skip, gate)
