"""Loss values against cases derived by hand."""

import math

import pytest
import torch

from vipseg.models.losses import (
    DiceLoss,
    FocalLoss,
    FocalTverskyLoss,
    LovaszLoss,
    OhemCrossEntropyLoss,
    lovasz_softmax,
)


def _logits_from_probs(*rows: list[float]) -> torch.Tensor:
    """(1, C, 1, P) logits whose softmax over C is each row (one row per pixel)."""
    return torch.tensor(rows).log().t()[None, :, None, :]


def test_focal_loss_hand_values():
    pred = _logits_from_probs([0.5, 0.5], [0.2, 0.8])
    label = torch.tensor([[[0, 1]]])
    fl0, fl1 = 0.25 * math.log(2), -(0.2**2) * math.log(0.8)
    assert FocalLoss(gamma=2)(pred, label).item() == pytest.approx((fl0 + fl1) / 2)
    ce = (math.log(2) - math.log(0.8)) / 2
    assert FocalLoss(gamma=0)(pred, label).item() == pytest.approx(ce)
    weighted = FocalLoss(gamma=2, alpha=[0.25, 1.0])(pred, label).item()
    assert weighted == pytest.approx((0.25 * fl0 + fl1) / 2)
    assert FocalLoss(gamma=2, alpha=0.5)(pred, label).item() == pytest.approx((fl0 + fl1) / 4)


# True-class probabilities 0.9, 0.8, 0.6, 0.3 on a 1x4 image, all labelled class 0.
OHEM_PRED = _logits_from_probs([0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7])
OHEM_LABEL = torch.zeros(1, 1, 4, dtype=torch.long)


def _nll(*probs: float) -> float:
    return -sum(math.log(p) for p in probs) / len(probs)


def test_ohem_threshold_keeps_pixels_below_it():
    loss = OhemCrossEntropyLoss(thresh=0.7, min_kept=1, min_kept_size=(1, 4))
    assert loss(OHEM_PRED, OHEM_LABEL).item() == pytest.approx(_nll(0.6, 0.3))


def test_ohem_min_kept_raises_the_threshold():
    # Three pixels at least: the threshold rises to the 4th smallest probability, 0.9.
    loss = OhemCrossEntropyLoss(thresh=0.7, min_kept=3, min_kept_size=(1, 4))
    assert loss(OHEM_PRED, OHEM_LABEL).item() == pytest.approx(_nll(0.8, 0.6, 0.3))


def test_ohem_without_threshold_keeps_the_hardest_and_scales_with_the_crop():
    # min_kept 1 for a 1x2 image is 2 for this 1x4 one.
    loss = OhemCrossEntropyLoss(thresh=None, min_kept=1, min_kept_size=(1, 2))
    assert loss.kept_per_image(1, 4) == 2
    assert loss(OHEM_PRED, OHEM_LABEL).item() == pytest.approx(_nll(0.6, 0.3))
    assert OhemCrossEntropyLoss().kept_per_image(360, 480) == 32959


def test_ohem_never_keeps_ignored_pixels_and_weights_classes():
    label = OHEM_LABEL.clone()
    label[0, 0, 3] = 255  # the hardest pixel
    loss = OhemCrossEntropyLoss(thresh=0.7, min_kept=1, min_kept_size=(1, 4))
    assert loss(OHEM_PRED, label).item() == pytest.approx(_nll(0.6))
    pred = _logits_from_probs([0.6, 0.4], [0.3, 0.7])
    two = torch.tensor([[[0, 1]]])  # true-class probabilities 0.6 and 0.7: both below 0.75
    weighted = OhemCrossEntropyLoss(thresh=0.75, min_kept=1, class_weight=[3.0, 1.0])
    expected = (3 * -math.log(0.6) + -math.log(0.7)) / 4
    assert weighted(pred, two).item() == pytest.approx(expected)


def test_lovasz_two_pixel_hand_case():
    # Pixel 0 (class 0) has p = (0.8, 0.2), pixel 1 (class 1) has p = (0.1, 0.9).
    # Class 0: errors (0.2 fg, 0.1 bg) -> gradient (1, 0) -> 0.2.
    # Class 1: errors (0.2 bg, 0.1 fg) -> Jaccard (0.5, 1) -> gradient (0.5, 0.5) -> 0.15.
    pred = _logits_from_probs([0.8, 0.2], [0.1, 0.9])
    label = torch.tensor([[[0, 1]]])
    assert LovaszLoss()(pred, label).item() == pytest.approx((0.2 + 0.15) / 2)


def test_lovasz_equals_one_minus_iou_for_crisp_predictions():
    gen = torch.Generator().manual_seed(1)
    label = torch.randint(0, 4, (1, 6, 7), generator=gen)
    guess = torch.randint(0, 4, (1, 6, 7), generator=gen)
    pred = torch.nn.functional.one_hot(guess, 4).permute(0, 3, 1, 2).float() * 60
    ious = []
    for c in label.unique():
        inter = ((label == c) & (guess == c)).sum()
        union = ((label == c) | (guess == c)).sum()
        ious.append(inter / union)
    expected = 1 - torch.stack(ious).mean()
    assert lovasz_softmax(pred, label).item() == pytest.approx(expected.item(), abs=1e-6)


def test_lovasz_all_classes_penalise_absent_class_by_its_largest_probability():
    pred = _logits_from_probs([0.7, 0.2, 0.1], [0.1, 0.5, 0.4])
    label = torch.tensor([[[0, 1]]])
    present = lovasz_softmax(pred, label, classes="present").item()
    everything = lovasz_softmax(pred, label, classes="all").item()
    assert everything == pytest.approx((2 * present + 0.4) / 3)


def test_lovasz_per_image_is_the_mean_of_single_images():
    gen = torch.Generator().manual_seed(2)
    pred = torch.randn(3, 3, 4, 4, generator=gen)
    label = torch.randint(0, 3, (3, 4, 4), generator=gen)
    label[2] = 255  # no valid pixel: left out of the mean
    per_image = LovaszLoss(per_image=True)(pred, label)
    singles = [LovaszLoss()(pred[i : i + 1], label[i : i + 1]) for i in range(2)]
    assert per_image.item() == pytest.approx(torch.stack(singles).mean().item())
    assert LovaszLoss()(pred, label).item() != pytest.approx(per_image.item())


# Class 0: TP 0.8, FN 0.2, FP 0.1. Class 1: TP 0.9, FN 0.1, FP 0.2.
TV_PRED = _logits_from_probs([0.8, 0.2], [0.1, 0.9])
TV_LABEL = torch.tensor([[[0, 1]]])


def test_focal_tversky_hand_values():
    ti0 = 0.8 / (0.8 + 0.7 * 0.2 + 0.3 * 0.1)
    ti1 = 0.9 / (0.9 + 0.7 * 0.1 + 0.3 * 0.2)
    expected = ((1 - ti0) ** 0.75 + (1 - ti1) ** 0.75) / 2
    assert FocalTverskyLoss(smooth=0)(TV_PRED, TV_LABEL).item() == pytest.approx(expected)


def test_focal_tversky_present_vs_all_classes():
    pred = _logits_from_probs([0.7, 0.2, 0.1], [0.1, 0.5, 0.4])
    label = torch.tensor([[[0, 1]]])
    present = FocalTverskyLoss(smooth=1, gamma=1)(pred, label).item()
    everything = FocalTverskyLoss(smooth=1, gamma=1, classes="all")(pred, label).item()
    absent = 1 - 1 / (0.3 * 0.5 + 1)  # TP = FN = 0, FP = 0.1 + 0.4
    assert everything == pytest.approx((2 * present + absent) / 3)


def test_dice_hand_values_and_equivalence_to_tversky():
    d0 = 2 * 0.8 / (2 * 0.8 + 0.2 + 0.1)
    d1 = 2 * 0.9 / (2 * 0.9 + 0.1 + 0.2)
    dice = DiceLoss(smooth=0)(TV_PRED, TV_LABEL).item()
    assert dice == pytest.approx(1 - (d0 + d1) / 2)
    tversky = FocalTverskyLoss(alpha=0.5, beta=0.5, gamma=1, smooth=0)(TV_PRED, TV_LABEL)
    assert dice == pytest.approx(tversky.item())


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="classes must be one of"):
        LovaszLoss(classes="some")
    with pytest.raises(ValueError, match="thresh"):
        OhemCrossEntropyLoss(thresh=1.5)
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-1)
    with pytest.raises(ValueError, match="gamma > 0"):
        FocalTverskyLoss(gamma=0)
    with pytest.raises(ValueError, match="class_weight has 3 entries"):
        FocalLoss(alpha=[1, 1, 1])(TV_PRED, TV_LABEL)
