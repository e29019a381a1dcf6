"""MultiScalePatchDiscriminator and the hinge / feature-matching losses."""

import pytest
import torch

from vipseg.generative import MultiScalePatchDiscriminator
from vipseg.generative.gan_losses import feature_matching_loss, hinge_d_loss, hinge_g_loss


def test_scales_halve_and_every_layer_is_returned():
    torch.manual_seed(0)
    d = MultiScalePatchDiscriminator(in_channels=5, base_channels=4, num_layers=3, num_scales=3)
    out = d(torch.randn(2, 3, 64, 96), torch.randn(2, 2, 64, 96))
    assert len(out) == 3 and all(len(scale) == 4 for scale in out)  # 3 layers + logits
    logits = [scale[-1] for scale in out]
    assert all(x.shape[:2] == (2, 1) for x in logits)
    assert logits[0].shape[2] > logits[1].shape[2] > logits[2].shape[2]
    assert [scale[0].shape[1] for scale in out] == [4, 4, 4]
    assert out[0][1].shape[1] == 8  # doubled
    with pytest.raises(ValueError, match="in_channels is 5"):
        d(torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32))


def _outputs(*logits, features=None):
    features = features or [torch.zeros(1)]
    return [[*features, torch.as_tensor(x, dtype=torch.float32)] for x in logits]


def test_hinge_losses_by_hand():
    real = _outputs([2.0, 0.5], [-1.0])  # two scales
    fake = _outputs([-3.0, 0.0], [0.5])
    loss_real, loss_fake = hinge_d_loss(real, fake)
    # relu(1 - x): scale 1 mean(0, 0.5) = 0.25, scale 2: 2  -> mean 1.125
    assert loss_real.item() == pytest.approx(1.125)
    # relu(1 + x): scale 1 mean(0, 1) = 0.5, scale 2: 1.5 -> mean 1.0
    assert loss_fake.item() == pytest.approx(1.0)
    # -mean(D(fake)): scale 1 -1.5, scale 2 0.5 -> -mean = 0.5
    assert hinge_g_loss(fake).item() == pytest.approx(0.5)


def test_feature_matching_is_l1_over_layers_averaged_over_scales_and_ignores_logits():
    real = [[torch.zeros(2), torch.zeros(3), torch.tensor(9.0)]] * 2
    fake = [[torch.ones(2), torch.full((3,), 2.0), torch.tensor(-9.0)]] * 2
    # per scale 1 + 2 = 3; averaged over the two scales: 3
    assert feature_matching_loss(fake, real).item() == pytest.approx(3.0)


def test_feature_matching_sends_no_gradient_into_the_real_features():
    real_feat = torch.zeros(4, requires_grad=True)
    fake_feat = torch.ones(4, requires_grad=True)
    loss = feature_matching_loss([[fake_feat, torch.zeros(1)]], [[real_feat, torch.zeros(1)]])
    loss.backward()
    assert real_feat.grad is None
    assert torch.allclose(fake_feat.grad, torch.full((4,), 0.25))
