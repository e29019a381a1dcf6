"""The BaseSegLoss contract, checked for every registered loss automatically."""

import pytest
import torch
from host_sync import SyncOpRecorder
from mmengine.structures import PixelData

from vipseg.models.losses import BaseSegLoss, registered_losses
from vipseg.registry import MODELS
from vipseg.structures import SegDataSample

LOSSES = registered_losses()
# Small-input settings: OHEM keeps half of a 2x3 image; the rest use their defaults.
ARGS = {"OhemCrossEntropyLoss": dict(min_kept=3, min_kept_size=(2, 3))}


def _build(name: str, **kwargs) -> BaseSegLoss:
    return MODELS.build(dict(type=name, **ARGS.get(name, {}), **kwargs))


def _inputs(dtype=torch.float32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 3, 2, 3, generator=gen, dtype=dtype)
    label = torch.randint(0, 3, (2, 2, 3), generator=gen)
    label[0, 0, 0] = label[1, 1, 2] = 255
    return pred, label


def test_all_losses_of_the_issue_are_registered():
    assert {
        "CrossEntropyLoss",
        "OhemCrossEntropyLoss",
        "FocalLoss",
        "LovaszLoss",
        "FocalTverskyLoss",
        "DiceLoss",
    } <= set(LOSSES)


@pytest.mark.parametrize("name", LOSSES)
def test_gradcheck_in_float64(name):
    pred, label = _inputs(torch.float64)
    loss = _build(name)
    assert torch.autograd.gradcheck(lambda p: loss(p, label), (pred.requires_grad_(),))


@pytest.mark.parametrize("name", LOSSES)
def test_ignored_pixels_have_zero_gradient_even_with_extreme_logits(name):
    pred, label = _inputs()
    pred[0, :, 0, 0] = torch.tensor([80.0, -80.0, 0.0])  # ignored pixel, saturated softmax
    pred.requires_grad_()
    value = _build(name)(pred, label)
    value.backward()
    assert torch.isfinite(value)
    assert torch.all(pred.grad[0, :, 0, 0] == 0) and torch.all(pred.grad[1, :, 1, 2] == 0)
    assert pred.grad.abs().sum() > 0


# The losses built on masked_pixels. Cross entropy and OHEM use F.cross_entropy's
# ignore_index, which keeps the value clean but, as in PyTorch, not the gradient of a NaN.
MASKED = ["FocalLoss", "LovaszLoss", "FocalTverskyLoss", "DiceLoss"]


@pytest.mark.parametrize("name", MASKED)
def test_non_finite_logits_at_ignored_pixels_reach_neither_value_nor_gradient(name):
    pred, label = _inputs()
    pred[0, :, 0, 0] = torch.tensor([float("inf"), float("nan"), -float("inf")])
    pred.requires_grad_()
    value = _build(name)(pred, label)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(pred.grad).all()
    assert torch.all(pred.grad[0, :, 0, 0] == 0)
    reference = _inputs()[0]
    reference[0, :, 0, 0] = 0
    assert value.item() == pytest.approx(_build(name)(reference, label).item())


# Every loss, and the options that take other code paths.
VARIANTS = [(name, {}) for name in LOSSES] + [
    ("CrossEntropyLoss", dict(class_weight=[0.5, 1.0, 2.0], avg_non_ignore=True)),
    ("CrossEntropyLoss", dict(avg_non_ignore=True)),
    ("OhemCrossEntropyLoss", dict(thresh=None)),
    ("FocalLoss", dict(alpha=[0.5, 1.0, 2.0])),
    ("LovaszLoss", dict(per_image=True)),
    ("LovaszLoss", dict(classes="all")),
    ("FocalTverskyLoss", dict(classes="all")),
]


@pytest.mark.parametrize(("name", "kwargs"), VARIANTS, ids=lambda v: str(v))
def test_no_op_of_forward_or_backward_waits_for_the_host(name, kwargs):
    pred, label = _inputs()
    pred.requires_grad_()
    loss = _build(name, **kwargs)
    with SyncOpRecorder() as recorder:
        loss(pred, label).backward()
    assert recorder.ops == []
    assert pred.grad.abs().sum() > 0


@pytest.mark.parametrize("name", LOSSES)
def test_ignored_pixels_do_not_change_the_value(name):
    pred, label = _inputs()
    loss = _build(name, loss_weight=1.0)
    changed = pred.clone()
    changed[0, :, 0, 0] += torch.tensor([5.0, -3.0, 1.0])
    assert loss(changed, label).item() == pytest.approx(loss(pred, label).item())


@pytest.mark.parametrize("name", LOSSES)
def test_all_ignored_gives_zero_with_zero_gradient(name):
    pred = torch.randn(1, 3, 2, 2, requires_grad=True)
    value = _build(name)(pred, torch.full((1, 2, 2), 255))
    value.backward()
    assert value.item() == 0 and torch.all(pred.grad == 0)


@pytest.mark.parametrize("name", LOSSES)
def test_a_single_valid_pixel_gives_a_finite_value_and_gradient(name):
    pred = torch.randn(1, 3, 2, 2, requires_grad=True)
    label = torch.full((1, 2, 2), 255)
    label[0, 1, 1] = 2
    value = _build(name)(pred, label)
    value.backward()
    assert torch.isfinite(value) and value.item() > 0
    assert torch.isfinite(pred.grad).all() and pred.grad[0, :, 1, 1].abs().sum() > 0


@pytest.mark.parametrize("name", LOSSES)
def test_float32_under_bf16_autocast_and_loss_weight(name):
    pred, label = _inputs()
    pred = pred.bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = _build(name, loss_weight=2.0)(pred, label)
    assert value.dtype == torch.float32
    reference = _build(name, loss_weight=1.0)(pred.float(), label)
    assert value.item() == pytest.approx(2.0 * reference.item(), rel=1e-6)


@pytest.mark.parametrize("name", LOSSES)
def test_bad_names_and_shapes_are_refused(name):
    with pytest.raises(ValueError, match="must start with 'loss_'"):
        _build(name, loss_name="ce")
    with pytest.raises(ValueError, match="expected pred"):
        _build(name)(torch.zeros(2, 3, 4), torch.zeros(2, 4).long())


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_sits_in_a_weighted_list_of_a_decode_head(name):
    head = MODELS.build(
        dict(
            type="FCNHead",
            in_channels=4,
            channels=4,
            num_classes=3,
            loss_decode=[
                dict(type="CrossEntropyLoss", loss_weight=0.5),
                dict(type=name, loss_weight=0.25, loss_name="loss_extra", **ARGS.get(name, {})),
            ],
        )
    )
    pred, label = _inputs()
    samples = []
    for image_label in label:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=image_label[None])
        samples.append(sample)
    losses = head.loss_by_feat(pred, samples)
    ce = MODELS.build(dict(type="CrossEntropyLoss"))(pred, label)
    assert losses["loss_ce"].item() == pytest.approx(0.5 * ce.item())
    assert losses["loss_extra"].item() == pytest.approx(0.25 * _build(name)(pred, label).item())
