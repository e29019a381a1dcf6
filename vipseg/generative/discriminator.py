"""Multi-scale PatchGAN discriminator (pix2pixHD, Wang et al. 2018; as used by SPADE)."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from vipseg.registry import MODELS


class PatchDiscriminator(nn.Module):
    """A 70x70-style PatchGAN: 4x4 convs (stride 2, then 1), spectral norm and instance norm
    after the first, LeakyReLU 0.2, one logit per patch.

    ``forward`` returns every layer's output (the last is the logit map) because the feature
    matching loss compares the intermediate ones.

    Args:
        in_channels: image plus label-map channels.
        base_channels: width of the first layer (64 in the paper), doubled per layer up to 512.
        num_layers: strided layers (4 in SPADE: 3 with stride 2, then one with stride 1).
    """

    def __init__(self, in_channels: int, base_channels: int = 64, num_layers: int = 4):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(in_channels, base_channels, 4, 2, 2), _lrelu())]
        width = base_channels
        for n in range(1, num_layers):
            previous, width = width, min(width * 2, 512)
            stride = 1 if n == num_layers - 1 else 2
            conv = spectral_norm(nn.Conv2d(previous, width, 4, stride, 2, bias=False))
            layers.append(nn.Sequential(conv, nn.InstanceNorm2d(width), _lrelu()))
        layers.append(nn.Conv2d(width, 1, 4, 1, 2))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2)


@MODELS.register_module()
class MultiScalePatchDiscriminator(nn.Module):
    """``num_scales`` :class:`PatchDiscriminator` s, each on the input average-pooled by 2 once
    more than the previous, so the coarse ones judge global layout and the fine one texture.

    Shape:
        images: ``(N, 3, H, W)`` in ``[-1, 1]``; seg: ``(N, label_channels, H, W)``;
        output: one list of layer outputs per scale (the last entry of each is the logits).

    Args:
        in_channels: ``3 + label_channels`` of the generator (image concatenated with the
            label map it should show).
        base_channels, num_layers: of each :class:`PatchDiscriminator`.
        num_scales: 2 in SPADE.
    """

    def __init__(
        self, in_channels: int, base_channels: int = 64, num_layers: int = 4, num_scales: int = 2
    ):
        super().__init__()
        if min(in_channels, base_channels, num_layers, num_scales) < 1:
            raise ValueError(
                f"MultiScalePatchDiscriminator: arguments must be >= 1, got in_channels="
                f"{in_channels}, base_channels={base_channels}, num_layers={num_layers}, "
                f"num_scales={num_scales}"
            )
        self.in_channels = in_channels
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, base_channels, num_layers) for _ in range(num_scales)
        )

    def forward(self, images: torch.Tensor, seg: torch.Tensor) -> list[list[torch.Tensor]]:
        x = torch.cat([images, seg], dim=1)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"MultiScalePatchDiscriminator: image + label map have {x.shape[1]} channels, "
                f"in_channels is {self.in_channels}"
            )
        outputs = []
        for i, discriminator in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(discriminator(x))
        return outputs
