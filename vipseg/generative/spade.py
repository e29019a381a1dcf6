"""SPADE (GauGAN) label-to-image generator (Park et al., CVPR 2019, arXiv 1903.07291).

The label map enters every normalization layer: a parameter-free norm whose scale and shift
are predicted per pixel from the (resized) one-hot label map, so the layout is not washed out
by normalization as it is when the labels are only the network's input.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from vipseg.registry import MODELS

from .label_input import label_channels

PARAM_FREE_NORMS = {"batch": nn.BatchNorm2d, "instance": nn.InstanceNorm2d}


class SPADE(nn.Module):
    """``norm(x) * (1 + gamma(seg)) + beta(seg)``: spatially-adaptive denormalization.

    Shape:
        x: ``(N, channels, h, w)``; seg: ``(N, seg_channels, H, W)``, resized to ``(h, w)``
        with nearest neighbours (exact for one-hot maps); output as ``x``.
    """

    def __init__(self, channels: int, seg_channels: int, hidden: int = 128, norm: str = "batch"):
        super().__init__()
        if norm not in PARAM_FREE_NORMS:
            raise ValueError(f"SPADE norm must be one of {sorted(PARAM_FREE_NORMS)}, got {norm!r}")
        self.norm = PARAM_FREE_NORMS[norm](channels, affine=False)
        self.shared = nn.Sequential(nn.Conv2d(seg_channels, hidden, 3, padding=1), nn.ReLU())
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
        hidden = self.shared(seg)
        return self.norm(x) * (1 + self.gamma(hidden)) + self.beta(hidden)


class SPADEResBlock(nn.Module):
    """The paper's residual block: two (SPADE, LeakyReLU 0.2, 3x3 conv) units; a learned
    (SPADE, 1x1 conv) shortcut when the width changes. Convolutions are spectrally normalized.
    """

    def __init__(self, in_channels: int, out_channels: int, seg_channels: int, **spade):
        super().__init__()
        middle = min(in_channels, out_channels)
        self.norm_0 = SPADE(in_channels, seg_channels, **spade)
        self.conv_0 = spectral_norm(nn.Conv2d(in_channels, middle, 3, padding=1))
        self.norm_1 = SPADE(middle, seg_channels, **spade)
        self.conv_1 = spectral_norm(nn.Conv2d(middle, out_channels, 3, padding=1))
        self.shortcut = None
        if in_channels != out_channels:
            self.norm_s = SPADE(in_channels, seg_channels, **spade)
            self.shortcut = spectral_norm(nn.Conv2d(in_channels, out_channels, 1, bias=False))

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        skip = x if self.shortcut is None else self.shortcut(self.norm_s(x, seg))
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return skip + dx


@MODELS.register_module()
class SPADEGenerator(nn.Module):
    """Label map (and noise) to an RGB image in ``[-1, 1]``.

    The layout follows the paper's "normal" generator for ``num_up=5``: a 3x3 conv of the label
    map downsampled by ``2**num_up`` gives ``16 * base_channels`` features; SPADE residual
    blocks alternate with nearest 2x upsampling, the width ``min(16, 2**(num_up - level))``
    times ``base_channels`` at each level (two blocks at the first upsampled level); a final
    LeakyReLU, 3x3 conv and tanh make the image. No encoder (the paper's VAE variant needs a
    perceptual loss to train it well, and no pretrained VGG is available offline); instead,
    with ``z_dim > 0`` a noise vector per image is broadcast over the image and concatenated
    to the label map wherever it is read (OASIS's 3D noise, Sushko, Schönfeld et al. 2021),
    so one label map renders to different images.

    Any input size works: the label map is padded (bottom, right) with the void channel to a
    multiple of ``2**num_up`` and the image cropped back.

    Shape:
        seg: ``(N, label_channels, H, W)`` float, from :func:`label_input.encode_labels`;
        z: ``(N, z_dim)`` or None (drawn from N(0, 1)); output ``(N, 3, H, W)``.

    Args:
        num_classes: classes of the label map (the void channel and the optional instance
            edge channel are added: see ``label_channels``).
        base_channels: ``nf`` (64 in the paper).
        num_up: 2x upsamplings; 5 in the paper, fewer for small images.
        z_dim: noise dimensions (0: deterministic, as the paper without its encoder).
        instance_edges: the label map carries an instance-boundary channel.
        norm: the parameter-free norm: ``'batch'`` (the paper's choice) or ``'instance'``.
        hidden_channels: width of SPADE's shared conv (128 in the paper).
    """

    def __init__(
        self,
        num_classes: int,
        base_channels: int = 64,
        num_up: int = 5,
        z_dim: int = 0,
        instance_edges: bool = False,
        norm: str = "batch",
        hidden_channels: int = 128,
    ):
        super().__init__()
        if num_classes < 1 or base_channels < 1 or num_up < 1 or z_dim < 0:
            raise ValueError(
                f"SPADEGenerator: need num_classes, base_channels, num_up >= 1 and z_dim >= 0, "
                f"got {num_classes}, {base_channels}, {num_up}, {z_dim}"
            )
        self.num_classes, self.num_up, self.z_dim = num_classes, num_up, z_dim
        self.instance_edges = bool(instance_edges)
        self.label_channels = label_channels(num_classes, self.instance_edges)
        seg_channels = self.label_channels + z_dim
        widths = [min(16, 2 ** (num_up - level)) * base_channels for level in range(num_up + 1)]
        spade = dict(hidden=hidden_channels, norm=norm)
        self.fc = nn.Conv2d(seg_channels, widths[0], 3, padding=1)
        self.levels = nn.ModuleList()
        for level, width in enumerate(widths):
            previous = widths[max(level - 1, 0)]
            blocks = [SPADEResBlock(previous, width, seg_channels, **spade)]
            if level == 1:
                blocks.append(SPADEResBlock(width, width, seg_channels, **spade))
            self.levels.append(nn.ModuleList(blocks))
        self.to_image = nn.Conv2d(widths[-1], 3, 3, padding=1)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        if seg.dim() != 4 or seg.shape[1] != self.label_channels:
            raise ValueError(
                f"SPADEGenerator: expected (N, {self.label_channels}, H, W) label maps, got "
                f"{tuple(seg.shape)}"
            )
        h, w = seg.shape[2:]
        seg = self._pad(seg)
        if self.z_dim:
            if z is None:
                z = torch.randn(seg.shape[0], self.z_dim, device=seg.device, dtype=seg.dtype)
            noise = z.to(seg.dtype)[:, :, None, None].expand(-1, -1, *seg.shape[2:])
            seg = torch.cat([seg, noise], dim=1)
        factor = 2**self.num_up
        x = self.fc(F.interpolate(seg, size=(seg.shape[2] // factor, seg.shape[3] // factor)))
        for level, blocks in enumerate(self.levels):
            if level:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            for block in blocks:
                x = block(x, seg)
        image = torch.tanh(self.to_image(F.leaky_relu(x, 0.2)))
        return image[:, :, :h, :w]

    def _pad(self, seg: torch.Tensor) -> torch.Tensor:
        factor = 2**self.num_up
        h, w = seg.shape[2:]
        ph, pw = math.ceil(h / factor) * factor - h, math.ceil(w / factor) * factor - w
        if not ph and not pw:
            return seg
        padded = F.pad(seg, (0, pw, 0, ph))
        padded[:, self.num_classes, h:, :] = 1  # the void channel: "nothing known here"
        padded[:, self.num_classes, :, w:] = 1
        return padded
