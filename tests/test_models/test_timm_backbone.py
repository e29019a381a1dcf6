"""TimmBackbone: feature tuple and channels, inside EncoderDecoder, errors, timm missing."""

import sys

import pytest
import torch
from mmengine.structures import PixelData

from vipseg.models.backbones.timm_backbone import TimmBackbone
from vipseg.registry import MODELS
from vipseg.structures import SegDataSample


def test_missing_timm_names_the_install_command(monkeypatch):
    # A None entry in sys.modules makes ``import timm`` raise ImportError, as if not installed.
    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(ImportError, match=r"optional dependency timm.*pip install timm"):
        TimmBackbone("resnet18")


def test_features_and_channels_at_output_stride_8():
    pytest.importorskip("timm", reason="timm is optional (pip install timm)")
    backbone = MODELS.build(
        dict(type="TimmBackbone", model_name="resnet18", out_indices=(1, 2, 3, 4), output_stride=8)
    )
    assert backbone.out_channels == (64, 128, 256, 512)
    assert backbone.strides == (4, 8, 8, 8)
    feats = backbone(torch.randn(2, 3, 64, 96))
    assert isinstance(feats, tuple)
    assert [f.shape for f in feats] == [
        (2, 64, 16, 24),
        (2, 128, 8, 12),
        (2, 256, 8, 12),
        (2, 512, 8, 12),
    ]
    assert not any(isinstance(m, torch.nn.Linear) for m in backbone.modules())


def test_timm_backbone_in_encoder_decoder_with_aspp():
    pytest.importorskip("timm", reason="timm is optional (pip install timm)")
    model = MODELS.build(
        dict(
            type="EncoderDecoder",
            backbone=dict(
                type="TimmBackbone",
                model_name="efficientnet_b0",
                out_indices=(2, 4),
                output_stride=16,
                norm_layer="groupnorm1",
            ),
            decode_head=dict(type="ASPPHead", in_channels=320, channels=8, num_classes=3),
            auxiliary_head=dict(
                type="FCNHead", in_channels=40, in_index=0, channels=8, num_classes=3
            ),
        )
    )
    assert model.backbone.out_channels == (40, 320)
    assert any(isinstance(m, torch.nn.GroupNorm) for m in model.backbone.modules())
    sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 64, 64)))
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2)
    data["data_samples"] = [sample, sample]
    losses = model(**model.data_preprocessor(data, training=True), mode="loss")
    assert {"decode.loss_ce", "aux.loss_ce"} <= set(losses)
    losses["decode.loss_ce"].backward()
    assert model.backbone.model.conv_stem.weight.grad is not None
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, training=False), mode="predict")
    assert out[0].pred_sem_seg.shape == (64, 64)


def test_bad_names_and_options_raise_value_errors():
    pytest.importorskip("timm", reason="timm is optional (pip install timm)")
    with pytest.raises(ValueError, match=r"model_name='resnet19x' is not a timm"):
        TimmBackbone("resnet19x")
    with pytest.raises(ValueError, match=r"rejected out_indices=.*output_stride"):
        TimmBackbone("vit_tiny_patch16_224", out_indices=(1,), output_stride=8)
