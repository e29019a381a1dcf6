"""ACFHead: class centres, the attentional class feature, both loss terms, predict, fitting."""

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from vipseg.models.decode_heads.acf_head import (
    ACFHead,
    attentional_class_feature,
    class_centers,
)
from vipseg.registry import MODELS
from vipseg.structures import SegDataSample
from vipseg.utils import load_config

DEMO = "configs/deeplabv3_r18_toycity.py"


def _head(**kwargs) -> ACFHead:
    args = dict(in_channels=8, channels=6, num_classes=3, acf_channels=4, dilations=(1, 2))
    return ACFHead(**{**args, **kwargs})


def _samples(n: int, h: int, w: int, num_classes: int) -> list[SegDataSample]:
    samples = []
    for _ in range(n):
        sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w)))
        samples.append(sample)
    return samples


def test_one_hot_class_centre_is_the_class_mean():
    torch.manual_seed(0)
    feats = torch.randn(2, 5, 4, 6)
    labels = torch.randint(0, 3, (2, 4, 6))
    labels[:, 0, :3] = torch.tensor([0, 1, 2])  # every class present in every image
    probs = F.one_hot(labels, 3).permute(0, 3, 1, 2).float()
    centers = class_centers(probs, feats)
    assert centers.shape == (2, 3, 5)
    for n in range(2):
        for k in range(3):
            expected = feats[n][:, labels[n] == k].mean(dim=1)
            torch.testing.assert_close(centers[n, k], expected)
    # With one-hot probabilities every pixel gets the centre of its own class.
    attention = attentional_class_feature(probs, centers)
    torch.testing.assert_close(attention[1, :, 2, 3], centers[1, labels[1, 2, 3]])


def test_soft_centres_and_attention_match_a_direct_sum():
    torch.manual_seed(1)
    feats = torch.randn(1, 3, 2, 3)
    probs = torch.randn(1, 4, 2, 3).softmax(dim=1)
    centers = class_centers(probs, feats)
    attention = attentional_class_feature(probs, centers)
    for k in range(4):
        weights = probs[0, k]
        expected = (feats[0] * weights).sum(dim=(1, 2)) / weights.sum()
        torch.testing.assert_close(centers[0, k], expected)
    for y in range(2):
        for x in range(3):
            expected = sum(probs[0, k, y, x] * centers[0, k] for k in range(4))
            torch.testing.assert_close(attention[0, :, y, x], expected)


def test_loss_has_weighted_coarse_and_fine_terms():
    torch.manual_seed(0)
    head = _head(
        loss_decode=dict(type="CrossEntropyLoss", loss_weight=0.7),
        coarse_loss_decode=dict(type="CrossEntropyLoss", loss_weight=0.25),
    ).eval()  # no dropout, running BN statistics: the two passes below agree
    feats = (torch.randn(2, 8, 4, 6),)
    samples = _samples(2, 16, 24, 3)
    losses = head.loss(feats, samples)
    assert set(losses) == {"loss_ce", "coarse_loss_ce", "acc_seg"}
    coarse, fine = head.forward_coarse_fine(feats)
    label = torch.stack([s.gt_sem_seg.data[0] for s in samples])

    def ce(logits):
        return F.cross_entropy(F.interpolate(logits, (16, 24), mode="bilinear"), label)

    torch.testing.assert_close(losses["coarse_loss_ce"], 0.25 * ce(coarse))
    torch.testing.assert_close(losses["loss_ce"], 0.7 * ce(fine))
    assert not torch.allclose(coarse, fine)


@pytest.mark.parametrize("detach", [False, True])
def test_fine_loss_reaches_the_coarse_classifier_unless_detached(detach):
    torch.manual_seed(0)
    head = _head(detach_coarse=detach, dropout_ratio=0.0)
    head.init_weights()
    losses = head.loss((torch.randn(2, 8, 4, 6),), _samples(2, 4, 6, 3))
    losses["loss_ce"].backward()
    grad = head.conv_coarse.weight.grad
    reached = grad is not None and bool(grad.abs().sum() > 0)
    assert reached is not detach


def test_predict_returns_fine_logits_at_the_input_size():
    head = _head().eval()
    feats = (torch.randn(2, 8, 4, 6),)
    logits = head.predict(feats, (32, 48))
    assert logits.shape == (2, 3, 32, 48)
    fine = head(feats)
    torch.testing.assert_close(logits, F.interpolate(fine, (32, 48), mode="bilinear"))


@pytest.fixture(scope="module")
def small_acfnet():
    cfg = load_config(DEMO)
    cfg.model.data_preprocessor.size = (128, 128)
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    head = cfg.model.decode_head
    # No dropout: the loss curve of a single batch is then smooth enough for a fixed bound.
    head.update(type="ACFHead", in_channels=64, channels=32, acf_channels=16, dropout_ratio=0.0)
    head.coarse_loss_decode = dict(type="CrossEntropyLoss", loss_weight=0.6)
    cfg.model.auxiliary_head.update(in_channels=32, channels=16)
    return cfg.model


def test_acfnet_overfits_a_toy_city_batch(small_acfnet, toy_city_batch, fit_batch):
    batch = toy_city_batch(128)
    torch.manual_seed(0)
    model = MODELS.build(small_acfnet)
    model.init_weights()
    history = fit_batch(model, batch, steps=60, lr=1e-2)
    assert all(
        {"decode.loss_ce", "decode.coarse_loss_ce", "aux.loss_ce"} <= set(h) for h in history
    )
    values = [step["decode.loss_ce"] for step in history]
    coarse = [step["decode.coarse_loss_ce"] for step in history]
    assert min(values[-3:]) < 0.1 * values[0], values
    assert min(coarse[-3:]) < 0.5 * coarse[0], coarse
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(batch, training=False), mode="predict")
    assert out[0].pred_sem_seg.shape == batch["data_samples"][0].ori_shape
