"""One SPADE training iteration: a generator step, then a discriminator step."""

import torch
from torch import nn

from .gan_losses import feature_matching_loss, hinge_d_loss, hinge_g_loss
from .label_input import encode_labels
from .oasis import (
    class_balance_weights,
    labelmix,
    labelmix_consistency,
    oasis_d_loss,
    oasis_g_loss,
)


class SPADETrainer:
    """SPADE's optimisation with TTUR (Heusel et al. 2017): Adam for both networks, the
    discriminator's learning rate 4x the generator's, ``betas=(0, 0.9)``.

    Per :meth:`step`: the generator renders the label maps; its loss is the hinge loss of the
    discriminator's verdict plus ``lambda_fm`` times feature matching (no perceptual loss:
    docs/generative.md). Then the discriminator takes the hinge loss on the real images and on
    the same fakes, detached (pix2pixHD reuses them; SPADE renders again with the updated
    generator, one more forward pass for a barely different image).

    With ``amp``, both passes run under bf16 autocast (no loss scaler needed for bf16); the
    losses are computed in float32. :meth:`step` returns detached tensors and never reads back
    from the device, so a training loop synchronises only when it logs.

    Args:
        generator: a :class:`SPADEGenerator` (or any module ``(seg, z) -> image``).
        discriminator: a :class:`MultiScalePatchDiscriminator`.
        num_classes, ignore_index: of the label maps.
        lr_g, lr_d, betas: Adam settings (SPADE's: 1e-4, 4e-4, (0, 0.9)).
        lambda_fm: weight of the feature matching loss (10 in SPADE).
        amp: bf16 autocast.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        num_classes: int,
        ignore_index: int = 255,
        lr_g: float = 1e-4,
        lr_d: float = 4e-4,
        betas: tuple[float, float] = (0.0, 0.9),
        lambda_fm: float = 10.0,
        amp: bool = False,
    ):
        self.generator, self.discriminator = generator, discriminator
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.lambda_fm, self.amp = float(lambda_fm), bool(amp)
        self.device = next(generator.parameters()).device
        betas = tuple(betas)
        # foreach: one kernel launch per group of tensors instead of one per parameter.
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=betas, foreach=True)
        self.opt_d = torch.optim.Adam(
            discriminator.parameters(), lr=lr_d, betas=betas, foreach=True
        )

    def encode(self, labels: torch.Tensor, instances: torch.Tensor | None = None) -> torch.Tensor:
        """Label maps as the networks read them (:func:`encode_labels`)."""
        if not getattr(self.generator, "instance_edges", False):
            instances = None
        return encode_labels(labels, self.num_classes, self.ignore_index, instances, check=False)

    @staticmethod
    def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    @staticmethod
    def _detached(**terms: torch.Tensor) -> dict[str, torch.Tensor]:
        return {name: value.detach() for name, value in terms.items()}

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def step(self, images: torch.Tensor, seg: torch.Tensor) -> dict[str, torch.Tensor]:
        """One update of each network on real ``images`` (``(N, 3, H, W)`` in [-1, 1]) and
        their encoded label maps ``seg``; returns the detached loss terms."""
        self.generator.train()
        self.discriminator.train()
        self.discriminator.requires_grad_(False)  # no weight gradients for D in G's step
        with self._autocast():
            fake = self.generator(seg)
            fake_out, real_out = self._judge(fake, images, seg)
            loss_gan = hinge_g_loss(fake_out)
            loss_fm = feature_matching_loss(fake_out, real_out)
        loss_g = loss_gan + self.lambda_fm * loss_fm
        self._update(self.opt_g, loss_g)

        self.discriminator.requires_grad_(True)
        with self._autocast():
            fake_out, real_out = self._judge(fake.detach(), images, seg)
            loss_d_real, loss_d_fake = hinge_d_loss(real_out, fake_out)
        loss_d = loss_d_real + loss_d_fake
        self._update(self.opt_d, loss_d)
        return self._detached(
            loss_g=loss_g,
            loss_g_gan=loss_gan,
            loss_g_fm=loss_fm,
            loss_d=loss_d,
            loss_d_real=loss_d_real,
            loss_d_fake=loss_d_fake,
        )

    def _judge(self, fake: torch.Tensor, real: torch.Tensor, seg: torch.Tensor):
        """The discriminator on fakes and reals in one batch (one pass, shared statistics)."""
        outputs = self.discriminator(torch.cat([fake, real.to(fake.dtype)]), torch.cat([seg, seg]))
        n = fake.shape[0]
        fake_out = [[x[:n] for x in scale] for scale in outputs]
        real_out = [[x[n:] for x in scale] for scale in outputs]
        return fake_out, real_out

    @torch.no_grad()
    def render(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1] for encoded label maps, the generator in eval mode."""
        was_training = self.generator.training
        self.generator.eval()
        with self._autocast():
            images = self.generator(seg, z).float()
        self.generator.train(was_training)
        return images

    def state_dict(self) -> dict:
        return dict(
            generator=self.generator.state_dict(),
            discriminator=self.discriminator.state_dict(),
            opt_g=self.opt_g.state_dict(),
            opt_d=self.opt_d.state_dict(),
        )

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])


class OASISTrainer(SPADETrainer):
    """OASIS's objective with the same generator (its 3D noise is ``z_dim``) and an
    :class:`OASISDiscriminator`: the generator minimises the class-balanced cross-entropy of
    the discriminator's segmentation of its image against the label map; the discriminator
    segments real images into the classes and fake ones into "fake", plus ``lambda_labelmix``
    times the LabelMix consistency. No feature matching and no perceptual loss. Adam betas
    (0, 0.999) as in the paper. The generator's EMA copy, which OASIS uses at test time, is
    not kept.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        num_classes: int,
        ignore_index: int = 255,
        lr_g: float = 1e-4,
        lr_d: float = 4e-4,
        betas: tuple[float, float] = (0.0, 0.999),
        lambda_labelmix: float = 10.0,
        amp: bool = False,
    ):
        super().__init__(
            generator, discriminator, num_classes, ignore_index, lr_g, lr_d, betas, 0.0, amp
        )
        self.lambda_labelmix = float(lambda_labelmix)

    def _labels(self, seg: torch.Tensor) -> torch.Tensor:
        index = seg[:, : self.num_classes + 1].argmax(1)  # the void channel is num_classes
        return torch.where(index == self.num_classes, self.ignore_index, index)

    def step(self, images: torch.Tensor, seg: torch.Tensor) -> dict[str, torch.Tensor]:
        self.generator.train()
        self.discriminator.train()
        labels = self._labels(seg)
        weights = class_balance_weights(labels, self.num_classes, self.ignore_index)
        self.discriminator.requires_grad_(False)
        with self._autocast():
            fake = self.generator(seg)
            loss_g = oasis_g_loss(self.discriminator(fake), labels, weights)
        self._update(self.opt_g, loss_g)

        self.discriminator.requires_grad_(True)
        fake = fake.detach()
        with self._autocast():
            mixed, mask = labelmix(images.to(fake.dtype), fake, labels, self.num_classes)
            real_out, fake_out, mixed_out = self.discriminator(
                torch.cat([images.to(fake.dtype), fake, mixed])
            ).chunk(3)
            loss_real, loss_fake = oasis_d_loss(real_out, fake_out, labels, weights)
            loss_lm = labelmix_consistency(mixed_out, real_out, fake_out, mask)
        loss_d = loss_real + loss_fake + self.lambda_labelmix * loss_lm
        self._update(self.opt_d, loss_d)
        return self._detached(
            loss_g=loss_g,
            loss_d=loss_d,
            loss_d_real=loss_real,
            loss_d_fake=loss_fake,
            loss_d_labelmix=loss_lm,
        )
