import math

import pytest
import torch

from vipseg.models.losses import CrossEntropyLoss, accuracy, cross_entropy


def _two_pixel_case():
    # Two pixels, two classes; logits chosen so the per-pixel losses are known in closed form.
    pred = torch.tensor([[[[2.0, 0.0]], [[0.0, 0.0]]]])  # (N=1, C=2, H=1, W=2)
    label = torch.tensor([[[0, 1]]])
    loss0 = -math.log(math.exp(2) / (math.exp(2) + 1))  # pixel 0, true class 0
    loss1 = math.log(2)  # pixel 1: equal logits
    return pred, label, loss0, loss1


def test_cross_entropy_matches_hand_computation():
    pred, label, loss0, loss1 = _two_pixel_case()
    assert cross_entropy(pred, label).item() == pytest.approx((loss0 + loss1) / 2)


def test_ignore_index_and_avg_non_ignore():
    pred, label, loss0, _ = _two_pixel_case()
    label = torch.tensor([[[0, 255]]])
    assert cross_entropy(pred, label).item() == pytest.approx(loss0 / 2)
    assert cross_entropy(pred, label, avg_non_ignore=True).item() == pytest.approx(loss0)


def test_class_weight_scales_terms():
    pred, label, loss0, loss1 = _two_pixel_case()
    weight = torch.tensor([3.0, 1.0])
    assert cross_entropy(pred, label, weight).item() == pytest.approx((3 * loss0 + loss1) / 2)
    weighted_mean = cross_entropy(pred, label, weight, avg_non_ignore=True).item()
    assert weighted_mean == pytest.approx((3 * loss0 + loss1) / 4)


def test_all_ignored_gives_zero_not_nan():
    pred = torch.randn(1, 3, 2, 2, requires_grad=True)
    label = torch.full((1, 2, 2), 255)
    loss = cross_entropy(pred, label, avg_non_ignore=True)
    loss.backward()
    assert loss.item() == 0 and torch.all(pred.grad == 0)


def test_module_applies_loss_weight_and_runs_in_fp32():
    pred, label, loss0, loss1 = _two_pixel_case()
    module = CrossEntropyLoss(loss_weight=0.4)
    assert module(pred.bfloat16(), label).dtype == torch.float32
    assert module(pred, label).item() == pytest.approx(0.4 * (loss0 + loss1) / 2)


def test_module_rejects_mismatched_weights_and_bad_names():
    with pytest.raises(ValueError, match="class_weight has 3 entries"):
        CrossEntropyLoss(class_weight=[1, 1, 1])(
            torch.zeros(1, 2, 1, 1), torch.zeros(1, 1, 1).long()
        )
    with pytest.raises(ValueError, match="must start with 'loss_'"):
        CrossEntropyLoss(loss_name="ce")


def test_accuracy_skips_ignored_pixels():
    pred = torch.tensor([[[[1.0, 0.0, 0.0]], [[0.0, 1.0, 1.0]]]])  # argmax 0, 1, 1
    label = torch.tensor([[[0, 0, 255]]])
    assert accuracy(pred, label).item() == pytest.approx(0.5)
