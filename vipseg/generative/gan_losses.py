"""SPADE's objective: hinge adversarial losses and discriminator feature matching.

SPADE also adds a VGG-19 perceptual loss; vipseg has none, because no pretrained VGG can be
downloaded in the VIPriors setting (no external data or weights): docs/generative.md.
Every loss averages over the discriminator's scales, as SPADE does.
"""

import torch
import torch.nn.functional as F


def _logits(outputs: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    return [scale[-1].float() for scale in outputs]


def hinge_d_loss(
    real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean(relu(1 - D(real))), mean(relu(1 + D(fake))))``, each averaged over scales.

    Shape:
        real, fake: one list of layer outputs per scale, as
        :class:`MultiScalePatchDiscriminator` returns them; the outputs are scalars.
    """
    real_logits, fake_logits = _logits(real), _logits(fake)
    loss_real = sum(F.relu(1 - x).mean() for x in real_logits) / len(real_logits)
    loss_fake = sum(F.relu(1 + x).mean() for x in fake_logits) / len(fake_logits)
    return loss_real, loss_fake


def hinge_g_loss(fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """``-mean(D(fake))`` averaged over scales (the generator's hinge loss).

    Shape:
        fake: one list of layer outputs per scale; the output is a scalar.
    """
    logits = _logits(fake)
    return -sum(x.mean() for x in logits) / len(logits)


def feature_matching_loss(
    fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]]
) -> torch.Tensor:
    """L1 between the discriminator's intermediate features of fake and real images, summed
    over layers and averaged over scales (pix2pixHD). The real features are targets: no
    gradient reaches the discriminator through them.

    Shape:
        fake, real: one list of layer outputs per scale; the logits (last entries) are not
        used; the output is a scalar.
    """
    total = fake[0][0].new_zeros((), dtype=torch.float32)
    for fake_scale, real_scale in zip(fake, real, strict=True):
        for f, r in zip(fake_scale[:-1], real_scale[:-1], strict=True):
            total = total + F.l1_loss(f.float(), r.detach().float())
    return total / len(fake)
