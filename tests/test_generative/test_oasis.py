"""OASIS: the segmentation discriminator, its losses, LabelMix and the trainer."""

import pytest
import torch
from torch import nn

from vipseg.generative import OASISDiscriminator, SPADEGenerator
from vipseg.generative.oasis import (
    class_balance_weights,
    labelmix,
    labelmix_consistency,
    oasis_d_loss,
    oasis_g_loss,
)
from vipseg.generative.train_loop import build_networks
from vipseg.generative.trainer import OASISTrainer
from vipseg.utils import ConfigError

from .conftest import tiny_gan_cfg


@pytest.mark.parametrize("size", [(32, 48), (20, 30)])
def test_discriminator_segments_into_classes_plus_fake(size):
    torch.manual_seed(0)
    d = OASISDiscriminator(num_classes=4, base_channels=4, num_down=3)
    assert d(torch.randn(2, 3, *size)).shape == (2, 5, *size)


def test_class_balance_weights_by_hand():
    labels = torch.tensor([[[0, 0, 0, 1]], [[0, 1, 255, 0]]])  # 2 images of 1x4
    w = class_balance_weights(labels, num_classes=2, ignore_index=255)
    # class 0: 5 pixels over 2 images -> 2.5 per image -> 4 / 2.5; class 1: 2 -> 1 -> 4
    assert torch.allclose(w, torch.tensor([[[1.6, 1.6, 1.6, 4.0]], [[1.6, 4.0, 0.0, 1.6]]]))


def test_losses_reward_the_right_segmentation():
    labels = torch.tensor([[[0, 1]]])
    weights = torch.ones(1, 1, 2)
    right = torch.tensor([[[[9.0, -9.0]], [[-9.0, 9.0]], [[-9.0, -9.0]]]])  # (1, 3, 1, 2)
    wrong = torch.tensor([[[[-9.0, 9.0]], [[9.0, -9.0]], [[-9.0, -9.0]]]])
    fake_seen = torch.tensor([[[[-9.0, -9.0]], [[-9.0, -9.0]], [[9.0, 9.0]]]])
    assert oasis_g_loss(right, labels, weights) < 1e-6 < 17 < oasis_g_loss(wrong, labels, weights)
    loss_real, loss_fake = oasis_d_loss(right, fake_seen, labels, weights)
    assert loss_real < 1e-6 and loss_fake < 1e-6
    _, loss_fake = oasis_d_loss(right, right, labels, weights)
    assert loss_fake > 17  # a fake segmented as real classes costs the discriminator
    # void pixels (weight 0) do not count in the real and generator terms
    zero = torch.zeros(1, 1, 2)
    assert oasis_g_loss(wrong, labels, zero) == 0


def test_labelmix_takes_whole_classes_from_one_image():
    torch.manual_seed(0)
    labels = torch.randint(0, 3, (4, 16, 16))
    labels[:, 0] = 255
    real, fake = torch.ones(4, 3, 16, 16), -torch.ones(4, 3, 16, 16)
    mixed, mask = labelmix(real, fake, labels, num_classes=3)
    assert torch.equal(mixed, torch.where(mask.bool(), real, fake))
    for i in range(4):
        for c in [0, 1, 2, 255]:
            values = mask[i, 0][labels[i] == c].unique()
            assert len(values) == 1  # a class is all real or all fake
    assert 0 < mask.mean() < 1


def test_consistency_is_zero_for_a_pixelwise_discriminator():
    """A 1x1 conv commutes with LabelMix, so a per-pixel discriminator is consistent."""
    torch.manual_seed(0)
    d = nn.Conv2d(3, 4, 1)
    labels = torch.randint(0, 3, (2, 8, 8))
    real, fake = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    mixed, mask = labelmix(real, fake, labels, num_classes=3)
    assert labelmix_consistency(d(mixed), d(real), d(fake), mask) < 1e-10
    conv3 = nn.Conv2d(3, 4, 3, padding=1)  # mixes neighbouring pixels: not consistent
    assert labelmix_consistency(conv3(mixed), conv3(real), conv3(fake), mask) > 1e-3


def test_trainer_step_updates_both_networks():
    torch.manual_seed(0)
    g = SPADEGenerator(num_classes=3, base_channels=4, num_up=2, hidden_channels=8, z_dim=2)
    d = OASISDiscriminator(num_classes=3, base_channels=4, num_down=2)
    trainer = OASISTrainer(g, d, num_classes=3)
    labels = torch.randint(0, 3, (2, 16, 16))
    labels[:, :2] = 255
    seg = trainer.encode(labels)
    assert torch.equal(trainer._labels(seg), labels)
    g0 = [p.detach().clone() for p in g.parameters()]
    d0 = [p.detach().clone() for p in d.parameters()]
    losses = trainer.step(torch.rand(2, 3, 16, 16) * 2 - 1, seg)
    assert set(losses) == {"loss_g", "loss_d", "loss_d_real", "loss_d_fake", "loss_d_labelmix"}
    assert all(torch.isfinite(v) for v in losses.values())
    expected = losses["loss_d_real"] + losses["loss_d_fake"] + 10 * losses["loss_d_labelmix"]
    assert losses["loss_d"] == pytest.approx(expected.item())
    assert all(not torch.equal(a, b) for a, b in zip(g0, g.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(d0, d.parameters()))
    assert trainer.opt_d.param_groups[0]["betas"] == (0.0, 0.999)


def test_objective_and_discriminator_must_match(toycity_root):
    cfg = tiny_gan_cfg(toycity_root)
    with pytest.raises(ConfigError, match="needs an OASISDiscriminator with num_classes=19"):
        build_networks(cfg, "cpu", "oasis")
    with pytest.raises(ConfigError, match="objective must be 'spade' or 'oasis'"):
        build_networks(cfg, "cpu", "gauss")
    cfg.discriminator = dict(type="OASISDiscriminator", num_classes=19, base_channels=2)
    with pytest.raises(ConfigError, match="discriminator.in_channels=None"):
        build_networks(cfg, "cpu", "spade")
    generator, discriminator = build_networks(cfg, "cpu", "oasis")
    assert isinstance(discriminator, OASISDiscriminator)


def test_oasis_training_run(toycity_root, tmp_path):
    from vipseg.engine.checkpoint_io import safe_load
    from vipseg.generative.train_loop import train_spade

    cfg = tiny_gan_cfg(toycity_root, **{"gan_cfg.objective": "oasis"})
    cfg.discriminator = dict(type="OASISDiscriminator", num_classes=19, base_channels=4, num_down=2)
    checkpoint = train_spade(cfg, str(tmp_path))
    assert safe_load(checkpoint)["iteration"] == 4
    assert (tmp_path / "samples" / "iter_4.png").is_file()
