"""DeepLabV3+ head: shapes, separable convs, and fitting a toy-city batch (also the DeepLabV3
demo with EvoNorm-S0, to show the norm-activation layer trains)."""

import pytest
import torch
from mmcv.cnn import DepthwiseSeparableConvModule

from vipseg.models.decode_heads.deeplabv3plus_head import DeepLabV3PlusHead
from vipseg.registry import MODELS
from vipseg.utils import load_config

DEMO = "configs/deeplabv3_r18_toycity.py"
CROP = (64, 64)


def _head(separable: bool) -> DeepLabV3PlusHead:
    return DeepLabV3PlusHead(
        16, 8, num_classes=5, c1_in_channels=4, c1_channels=6, separable=separable
    )


@pytest.mark.parametrize("separable", [False, True])
def test_head_fuses_the_low_level_feature_at_its_resolution(separable):
    torch.manual_seed(0)
    head = _head(separable).eval()  # no dropout: equal inputs give equal logits
    low, mid, high = torch.randn(2, 4, 16, 24), torch.randn(2, 8, 8, 12), torch.randn(2, 16, 4, 6)
    logits = head((low, mid, high))
    assert logits.shape == (2, 5, 16, 24)  # the low-level feature's size
    assert head.c1_bottleneck.conv.out_channels == 6
    atrous = [m for m in head.aspp if m.__class__ is DepthwiseSeparableConvModule]
    refine = [m for m in head.decoder if m.__class__ is DepthwiseSeparableConvModule]
    assert (len(atrous), len(refine)) == ((3, 2) if separable else (0, 0))
    # The decoder reads the low-level feature: changing it changes the logits.
    assert not torch.allclose(head((low + 1, mid, high)), logits)


def test_separable_head_is_smaller():
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(_head(True)) < count(_head(False))


def _model_cfg(kind: str):
    cfg = load_config(DEMO).model
    cfg.data_preprocessor.size = CROP
    cfg.auxiliary_head = None
    if kind == "deeplabv3plus":
        cfg.backbone.update(base_channels=8, stem_channels=8)
        cfg.decode_head = dict(
            type="DeepLabV3PlusHead",
            in_channels=64,
            channels=32,
            c1_in_channels=8,
            c1_channels=8,
            dilations=(1, 12, 24, 36),
            separable=True,
            num_classes=19,
            norm_cfg=cfg.backbone.norm_cfg,
        )
    else:  # the DeepLabV3 demo, every BN + ReLU replaced by EvoNorm-S0
        evo = dict(type="EvoNormS0", groups=8)
        cfg.backbone.norm_cfg = cfg.decode_head.norm_cfg = evo
    cfg.decode_head.dropout_ratio = 0.0  # memorising one batch: no noise in the curve
    return cfg


@pytest.mark.parametrize("kind", ["deeplabv3plus", "deeplabv3_evonorm_s0"])
def test_decode_loss_falls_by_90_percent_on_a_toy_city_batch(kind, toy_city_batch, fit_batch):
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(kind))
    if kind == "deeplabv3plus":
        assert isinstance(model.decode_head, DeepLabV3PlusHead)
    else:
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    history = fit_batch(model, toy_city_batch(CROP[0]), steps=60, lr=1e-2)
    values = [step["decode.loss_ce"] for step in history]
    assert min(values[-3:]) < 0.1 * values[0], values
