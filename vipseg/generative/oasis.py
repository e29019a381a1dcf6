"""OASIS (Sushko, Schönfeld et al., ICLR 2021, arXiv 2012.04781): adversarial supervision
through a segmentation discriminator, the alternative to SPADE's perceptual loss where no
pretrained VGG may be used. The discriminator labels every pixel of an image with one of the
N classes or "fake"; the generator is rewarded when its image is segmented as the label map
it was given, so the discriminator's own semantic feedback takes the place of VGG features.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from vipseg.registry import MODELS


class _ResBlock(nn.Module):
    """Two spectrally-normalized 3x3 convs with LeakyReLU 0.2 and a learned 1x1 shortcut."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(in_channels, out_channels, 3, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(out_channels, out_channels, 3, padding=1)),
        )
        self.shortcut = spectral_norm(nn.Conv2d(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.body(x)


@MODELS.register_module()
class OASISDiscriminator(nn.Module):
    """A U-Net of residual blocks: ``num_down`` blocks each followed by 2x average pooling,
    then as many 2x upsamplings each followed by a block on the concatenated skip, and a 1x1
    conv to ``num_classes + 1`` logits per pixel (the last channel is "fake"). The paper uses
    6 down and 6 up blocks. Any input size: padded (reflect) to a multiple of
    ``2**num_down`` and cropped back.

    Shape:
        images: ``(N, 3, H, W)`` in [-1, 1]; output ``(N, num_classes + 1, H, W)``.

    Args:
        num_classes: the generator's classes (void pixels carry no class target).
        base_channels: width of the first block, doubled per level up to ``max_channels``.
        num_down: encoder levels.
        max_channels: the widest level.
    """

    def __init__(
        self, num_classes: int, base_channels: int = 64, num_down: int = 6, max_channels: int = 512
    ):
        super().__init__()
        if min(num_classes, base_channels, num_down, max_channels) < 1:
            raise ValueError(
                f"OASISDiscriminator: arguments must be >= 1, got num_classes={num_classes}, "
                f"base_channels={base_channels}, num_down={num_down}, max_channels={max_channels}"
            )
        self.num_classes, self.num_down = num_classes, num_down
        widths = [min(base_channels * 2**i, max_channels) for i in range(num_down + 1)]
        self.stem = spectral_norm(nn.Conv2d(3, widths[0], 3, padding=1))
        self.down = nn.ModuleList(_ResBlock(widths[i], widths[i + 1]) for i in range(num_down))
        self.up = nn.ModuleList(
            _ResBlock(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(num_down))
        )
        self.classifier = nn.Conv2d(widths[0], num_classes + 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h, w = images.shape[2:]
        factor = 2**self.num_down
        ph, pw = math.ceil(h / factor) * factor - h, math.ceil(w / factor) * factor - w
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = self.stem(F.pad(images, (0, pw, 0, ph), mode=mode) if ph or pw else images)
        skips = []
        for block in self.down:
            skips.append(x)
            x = F.avg_pool2d(block(x), 2)
        for block in self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips.pop()], dim=1))
        return self.classifier(F.leaky_relu(x, 0.2))[:, :, :h, :w]


def class_balance_weights(labels: torch.Tensor, num_classes: int, ignore_index: int):
    """OASIS's per-pixel weights: class ``c`` weighs ``H*W / (pixels of c in the batch per
    image)``, inverse frequency, so small classes count as much as large ones; void pixels 0.

    Shape:
        labels: ``(N, H, W)``; output ``(N, H, W)`` float32.
    """
    valid = labels != ignore_index
    index = torch.where(valid, labels, torch.zeros_like(labels))
    counts = torch.bincount(index[valid], minlength=num_classes).float()
    per_image = counts / labels.shape[0]
    alpha = labels[0].numel() / per_image.clamp(min=1)
    return torch.where(valid, alpha[index], torch.zeros_like(alpha[index]))


def _weighted_ce(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor):
    ce = F.cross_entropy(logits.float(), target, reduction="none")
    return (ce * weights).mean()


def oasis_d_loss(
    real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(real term, fake term)``: class-weighted cross-entropy of the real image against its
    labels, and cross-entropy of every fake pixel against the "fake" class.

    Shape:
        real, fake: ``(N, C + 1, H, W)`` logits; labels, weights: ``(N, H, W)``.
    """
    target = torch.where(weights > 0, labels, torch.zeros_like(labels))
    fake_class = torch.full_like(labels, real.shape[1] - 1)
    return _weighted_ce(real, target, weights), _weighted_ce(
        fake, fake_class, torch.ones_like(weights)
    )


def oasis_g_loss(fake: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Class-weighted cross-entropy of the fake image against the labels it was made from."""
    return _weighted_ce(fake, torch.where(weights > 0, labels, torch.zeros_like(labels)), weights)


def labelmix(
    real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor, num_classes: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """LabelMix (OASIS Sec. 3.2): each class (and void) goes to the real or the fake image at
    random; returns the mixed images and the ``(N, 1, H, W)`` mask (1: real)."""
    choice = torch.randint(0, 2, (labels.shape[0], num_classes + 1), device=labels.device)
    index = labels.clamp(max=num_classes)  # void (ignore_index) is one more "class"
    mask = torch.gather(choice, 1, index.flatten(1)).view_as(labels)[:, None].to(real.dtype)
    return mask * real + (1 - mask) * fake, mask


def labelmix_consistency(
    mixed_logits: torch.Tensor, real: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``|| D(LabelMix(x, x_hat)) - LabelMix(D(x), D(x_hat)) ||^2`` on the logits."""
    target = mask * real + (1 - mask) * fake
    return F.mse_loss(mixed_logits.float(), target.float())
