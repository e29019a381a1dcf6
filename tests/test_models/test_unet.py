"""U-Net and Attention U-Net: shapes at any input size, the gate's math, deep supervision,
norms, and fitting a toy-city batch."""

import math

import pytest
import torch
from mmengine.structures import PixelData
from torch import nn

from vipseg.models.backbones import AttentionUNet, UNet
from vipseg.models.backbones.attention_unet import AttentionGate
from vipseg.registry import MODELS
from vipseg.structures import SegDataSample
from vipseg.utils import load_config

BACKBONES = (UNet, AttentionUNet)
BN = dict(type="BN")


def _segmentor_cfg(name: str, width: int = 8):
    """The ``configs/unet`` model at ``width`` channels, plain BN, aux heads rescaled."""
    cfg = load_config(f"configs/unet/{name}_minicity.py").model
    cfg.backbone.update(base_channels=width, norm_cfg=BN)
    cfg.decode_head.update(in_channels=width, channels=width, norm_cfg=BN)
    for head in cfg.get("auxiliary_head") or []:
        # Level in_index of the 4 decoder levels (coarse to fine) has width * 2**(3 - i).
        head.channels = head.in_channels = width * 2 ** (3 - head.in_index)
    return cfg


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize("mode", ["bilinear", "deconv"])
@pytest.mark.parametrize("size", [(64, 64), (70, 90), (33, 17)])
def test_decoder_levels_have_the_input_size(cls, mode, size):
    h, w = size
    feats = cls(base_channels=4, upsample_mode=mode)(torch.randn(2, 3, h, w))
    assert [f.shape[1] for f in feats] == [32, 16, 8, 4]
    expected = [(math.ceil(h / s), math.ceil(w / s)) for s in (8, 4, 2, 1)]
    assert [tuple(f.shape[-2:]) for f in feats] == expected


@pytest.mark.parametrize("name", ["unet", "attention_unet"])
def test_segmentor_logits_match_an_input_not_divisible_by_16(name):
    model = MODELS.build(_segmentor_cfg(name)).eval()
    with torch.no_grad():
        logits = model.encode_decode(torch.randn(1, 3, 70, 90))
    assert logits.shape == (1, 19, 70, 90)


def test_bad_upsample_mode_names_the_key():
    with pytest.raises(ValueError, match="upsample_mode"):
        UNet(upsample_mode="nearest")


def _hand_gate() -> AttentionGate:
    """Gate with W_x = sum of 2 skip channels, W_g = first of 3 gate channels, psi = 2q - 1."""
    gate = AttentionGate(2, 3, 1, conv_cfg=None, norm_cfg=BN).eval()
    with torch.no_grad():
        gate.w_x.conv.weight.fill_(1.0)
        gate.w_g.conv.weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
        gate.psi.weight.fill_(2.0)
        gate.psi.bias.fill_(-1.0)
    for bn in (gate.w_x.bn, gate.w_g.bn):
        bn.eps = 0.0  # running mean 0, var 1: the eval-mode norm is the identity
    return gate


def test_attention_gate_math_by_hand():
    gate = _hand_gate()
    x = torch.full((1, 2, 8, 8), 0.5)  # W_x x = 1
    g = torch.zeros(1, 3, 4, 4)
    # q = ReLU(1 + 0) = 1, psi = 2 * 1 - 1 = 1.
    alpha = gate.attention(x, g)
    assert alpha.shape == (1, 1, 8, 8)
    torch.testing.assert_close(alpha, torch.full_like(alpha, torch.sigmoid(torch.tensor(1.0))))
    torch.testing.assert_close(gate(x, g), x * alpha)
    # The gating signal suppresses: q = ReLU(1 - 2) = 0, psi = -1.
    g[:, 0] = -2.0
    alpha = gate.attention(x, g)
    torch.testing.assert_close(alpha, torch.full_like(alpha, torch.sigmoid(torch.tensor(-1.0))))
    # A negative skip is cut by the ReLU the same way.
    alpha = gate.attention(-x, torch.zeros(1, 3, 4, 4))
    assert torch.allclose(alpha, torch.sigmoid(torch.tensor(-1.0)))


def test_attention_is_computed_coarse_and_resampled_to_the_skip():
    gate = _hand_gate()
    x = torch.full((1, 2, 8, 8), 0.5)
    g = torch.zeros(1, 3, 4, 4)
    g[0, 0, 0, 0] = -2.0  # suppress one coarse cell: the top-left 2x2 block of the skip
    alpha = gate.attention(x, g)[0, 0]
    low, high = torch.sigmoid(torch.tensor(-1.0)), torch.sigmoid(torch.tensor(1.0))
    torch.testing.assert_close(alpha[0, 0], low)
    torch.testing.assert_close(alpha[4:, 4:], torch.full((4, 4), float(high)))
    assert ((alpha > 0) & (alpha < 1)).all()
    assert (alpha[:3, :3] < high).all()  # bilinear: the suppression fades out, no hard edge


def test_gates_change_the_output_and_open_gates_give_unet():
    torch.manual_seed(0)
    att = AttentionUNet(base_channels=4).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        before = att(x)[-1]
        att.gates[3].psi.bias.add_(3.0)
        assert not torch.allclose(att(x)[-1], before)
        # alpha == 1 everywhere: the same weights without gates are a plain U-Net.
        for gate in att.gates:
            gate.psi.weight.zero_()
            gate.psi.bias.fill_(100.0)
        unet = UNet(base_channels=4).eval()
        missing = unet.load_state_dict(att.state_dict(), strict=False)
        assert not missing.missing_keys and all("gates" in k for k in missing.unexpected_keys)
        torch.testing.assert_close(att(x)[-1], unet(x)[-1])


def test_deep_supervision_heads_read_the_coarser_levels():
    model = MODELS.build(_segmentor_cfg("attention_unet"))
    assert [head.in_index for head in model.auxiliary_heads] == [2, 1]
    inputs = torch.randn(2, 3, 48, 48)
    feats = model.extract_feat(inputs)
    sizes = [tuple(head(feats).shape[-2:]) for head in model.auxiliary_heads]
    assert sizes == [(24, 24), (12, 12)]
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(48, 48)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, 48, 48)))
        samples.append(sample)
    losses = model.loss(inputs, samples)
    assert {"decode.loss_ce", "aux_0.loss_ce", "aux_1.loss_ce"} <= set(losses)
    assert "aux" not in " ".join(MODELS.build(_segmentor_cfg("unet")).loss(inputs, samples))


@pytest.mark.parametrize("cls", BACKBONES)
@pytest.mark.parametrize(
    ("norm_cfg", "layer"),
    [(dict(type="GN", num_groups=4), nn.GroupNorm), (dict(type="IN"), nn.InstanceNorm2d)],
)
def test_other_norms_build_and_train(cls, norm_cfg, layer):
    model = cls(base_channels=8, norm_cfg=norm_cfg)
    assert any(isinstance(m, layer) for m in model.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    out = model(torch.randn(2, 3, 40, 24))[-1]
    out.mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_syncbn_config_builds_syncbn_layers():
    model = UNet(base_channels=4, norm_cfg=dict(type="SyncBN"))
    assert sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules()) == 18


@pytest.mark.parametrize("name", ["unet", "attention_unet"])
def test_overfits_a_toy_city_batch(name, toy_city_batch, fit_batch):
    cfg = _segmentor_cfg(name, width=16)
    cfg.data_preprocessor.size = (64, 64)
    # No dropout: it keeps the loss of a single batch from going to zero.
    cfg.decode_head.dropout_ratio = 0.0
    cfg.auxiliary_head = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    history = fit_batch(model, toy_city_batch(64), steps=50, lr=2e-2)
    values = [step["decode.loss_ce"] for step in history]
    assert min(values[-3:]) < 0.1 * values[0], values
