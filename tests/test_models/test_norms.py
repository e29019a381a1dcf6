"""Normalization through norm_cfg: EvoNorm-B0/S0 against their formulas, EvoNorm replacing the
ReLU in whole models, GN/IN/BN everywhere, SyncBN falling back to BN in one process."""

import logging

import pytest
import torch
import torch.distributed as dist
from mmcv.cnn import ConvModule
from mmengine import DefaultScope
from mmengine.logging import MMLogger
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from vipseg.models.backbones import ResNet
from vipseg.models.layers import EvoNormB0, EvoNormS0
from vipseg.models.utils.sync_bn import adapt_sync_bn
from vipseg.registry import MODELS
from vipseg.utils import load_config

DEMO = "configs/deeplabv3_r18_toycity.py"
NORMS = {
    "BN": dict(type="BN"),
    "GN": dict(type="GN", num_groups=2),
    "IN": dict(type="IN", affine=True),
    "EvoNormB0": dict(type="EvoNormB0"),
    "EvoNormS0": dict(type="EvoNormS0", groups=2),
}


def _set_v1(layer: nn.Module) -> torch.Tensor:
    """Random per-channel parameters, so the formulas below see non-trivial values."""
    with torch.no_grad():
        for p in (layer.weight, layer.bias, layer.v1):
            p.copy_(torch.randn_like(p))
    return layer.v1


def test_evonorm_b0_matches_its_formula_in_train_and_eval():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 5, 6) * 2 + 1
    layer = EvoNormB0(4, momentum=0.25)
    v1 = _set_v1(layer)
    var_b = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    std_i = (x.var(dim=(2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
    gamma, beta = layer.weight, layer.bias
    expected = x / torch.maximum((var_b + 1e-5).sqrt(), v1 * x + std_i) * gamma + beta
    torch.testing.assert_close(layer(x), expected)
    running = 0.75 * torch.ones_like(var_b) + 0.25 * var_b
    torch.testing.assert_close(layer.running_var, running)
    layer.eval()
    y = torch.randn(2, 4, 5, 6)
    std_i = (y.var(dim=(2, 3), unbiased=False, keepdim=True) + 1e-5).sqrt()
    expected = y / torch.maximum((running + 1e-5).sqrt(), v1 * y + std_i) * gamma + beta
    torch.testing.assert_close(layer(y), expected)
    torch.testing.assert_close(layer.running_var, running)  # eval does not update it


def test_evonorm_s0_matches_its_formula():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 4, 5) * 3 - 1
    layer = EvoNormS0(6, groups=3)
    v1 = _set_v1(layer)
    # Group variance computed one group at a time, independently of the layer's reshapes.
    std = torch.empty(2, 6, 1, 1)
    for n in range(2):
        for g in range(3):
            std[n, 2 * g : 2 * g + 2] = (x[n, 2 * g : 2 * g + 2].var(unbiased=False) + 1e-5).sqrt()
    expected = x * torch.sigmoid(v1 * x) / std * layer.weight + layer.bias
    torch.testing.assert_close(layer(x), expected)
    layer.eval()  # batch-independent: eval computes the same
    torch.testing.assert_close(layer(x), expected)


def test_evonorm_linear_variants_drop_the_nonlinear_term():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, 3)
    s0 = EvoNormS0(4, groups=1, nonlinear=False)
    std = (x.reshape(2, -1).var(dim=1, unbiased=False) + 1e-5).sqrt().reshape(2, 1, 1, 1)
    torch.testing.assert_close(s0(x), x / std)
    assert s0.v1 is None and EvoNormB0(4, nonlinear=False).v1 is None
    with pytest.raises(ValueError, match="groups=3 must divide num_features=4"):
        EvoNormS0(4, groups=3)


@pytest.mark.parametrize("cls", [EvoNormB0, EvoNormS0])
def test_evonorm_gradients_reach_input_and_every_parameter(cls):
    torch.manual_seed(0)
    layer = cls(4, groups=2) if cls is EvoNormS0 else cls(4)
    x = torch.randn(2, 4, 5, 5, requires_grad=True)
    (layer(x) * torch.randn(2, 4, 5, 5)).sum().backward()
    for tensor in (x, layer.weight, layer.bias, layer.v1):
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0


def test_evonorm_in_convmodule_with_and_without_the_vipseg_scope():
    cfg = dict(type="EvoNormS0", groups=2)
    conv = ConvModule(3, 4, 3, norm_cfg=cfg, act_cfg=None)  # conftest set scope vipseg
    assert isinstance(conv.norm, EvoNormS0)
    with DefaultScope.overwrite_default_scope("mmengine"):
        # mmcv alone looks names up in the current scope's registry only ...
        with pytest.raises(KeyError):
            ConvModule(3, 4, 3, norm_cfg=cfg, act_cfg=None)
        # ... vipseg's modules resolve the name in vipseg's registry first.
        backbone = ResNet(18, base_channels=4, stem_channels=4, norm_cfg=cfg)
    assert isinstance(backbone.layer1[0].bn1, EvoNormS0)
    head = MODELS.build(
        dict(type="ASPPHead", in_channels=4, channels=4, num_classes=3, norm_cfg=cfg)
    )
    assert isinstance(head.bottleneck.norm, EvoNormS0)
    assert not hasattr(head.bottleneck, "activate")  # EvoNorm is the activation


def test_act_cfg_with_evonorm_is_one_clear_error():
    with pytest.raises(ValueError, match="act_cfg=.*cannot be combined with norm_cfg"):
        MODELS.build(
            dict(
                type="FCNHead",
                in_channels=4,
                channels=4,
                num_classes=3,
                norm_cfg=dict(type="EvoNormB0"),
                act_cfg=dict(type="ReLU"),
            )
        )


def _tiny_model(norm_cfg: dict, head: str = "ASPPHead") -> nn.Module:
    decode = dict(type=head, in_channels=64, channels=8, num_classes=3, norm_cfg=norm_cfg)
    if head == "DeepLabV3PlusHead":
        decode.update(c1_in_channels=8, c1_channels=4, separable=True)
    return MODELS.build(
        dict(
            type="EncoderDecoder",
            backbone=dict(
                type="ResNet", depth=18, base_channels=8, stem_channels=8, norm_cfg=norm_cfg
            ),
            decode_head=decode,
            auxiliary_head=dict(
                type="FCNHead",
                in_channels=32,
                in_index=2,
                channels=8,
                num_classes=3,
                norm_cfg=norm_cfg,
            ),  # fmt: skip
        )
    )


def _relus_after_evonorm(model: nn.Module, run) -> tuple[int, int]:
    """(ReLU calls whose input is an EvoNorm output, EvoNorm calls) while ``run()`` runs."""
    outputs, hits, calls = [], [0], [0]

    def on_norm(module, args, output):
        calls[0] += 1
        outputs.append(output)  # kept alive, so identity checks cannot match a reused id

    def on_relu(module, args):
        hits[0] += any(args[0] is out for out in outputs)

    handles = [
        m.register_forward_hook(on_norm) if isinstance(m, EvoNormB0 | EvoNormS0)
        else m.register_forward_pre_hook(on_relu)
        for m in model.modules()
        if isinstance(m, EvoNormB0 | EvoNormS0 | nn.ReLU)
    ]  # fmt: skip
    run()
    for handle in handles:
        handle.remove()
    return hits[0], calls[0]


@pytest.mark.parametrize("norm", ["EvoNormB0", "EvoNormS0"])
def test_evonorm_resnet_aspp_trains_without_relu_after_evonorm(norm):
    torch.manual_seed(0)
    model = _tiny_model(NORMS[norm]).train()
    x = torch.randn(2, 3, 32, 32)
    relus, calls = _relus_after_evonorm(model, lambda: model.decode_head(model.backbone(x)))
    assert calls > 20 and relus == 0
    # The check can fail: a ReLU right after an EvoNorm is counted.
    bad = nn.Sequential(EvoNormS0(4, groups=2), nn.ReLU())
    assert _relus_after_evonorm(bad, lambda: bad(torch.randn(2, 4, 3, 3))) == (1, 1)
    out = model.decode_head(model.backbone(x))
    out.square().mean().backward()
    assert all(p.grad is not None for p in model.backbone.parameters())


@pytest.mark.parametrize("head", ["ASPPHead", "DeepLabV3PlusHead"])
@pytest.mark.parametrize("norm", sorted(NORMS))
def test_every_norm_builds_forwards_and_backwards(norm, head):
    torch.manual_seed(0)
    model = _tiny_model(NORMS[norm], head).train()
    expected = MODELS.get(NORMS[norm]["type"])
    for part in (model.backbone, model.decode_head, model.auxiliary_heads[0]):
        assert any(type(m) is expected for m in part.modules()), part
    x = torch.randn(2, 3, 32, 32)
    feats = model.backbone(x)
    out = model.decode_head(feats).sum() + model.auxiliary_heads[0](feats).sum()
    out.backward()
    assert torch.isfinite(model.backbone.stem[0].weight.grad).all()


def _count_sync_bn_warnings(caplog_records) -> int:
    return sum("SyncBN layer(s)" in r.getMessage() for r in caplog_records)


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def test_sync_bn_reverts_to_bn_with_one_warning_outside_a_process_group():
    assert not dist.is_initialized()
    cfg = load_config(DEMO)
    sync = dict(type="SyncBN", requires_grad=True)
    cfg.model.backbone.norm_cfg = sync
    cfg.model.decode_head.norm_cfg = sync
    cfg.model.auxiliary_head.norm_cfg = sync
    handler = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        model = MODELS.build(cfg.model)  # the segmentor reverts while it is built
        assert not any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
        assert _count_sync_bn_warnings(handler.records) == 1
        again = adapt_sync_bn(model)  # nothing left: no second warning
    finally:
        logger.removeHandler(handler)
    assert again is model
    assert _count_sync_bn_warnings(handler.records) == 1
    assert sum(isinstance(m, _BatchNorm) for m in model.modules()) > 10
    model.train()
    feats = model.backbone(torch.randn(2, 3, 32, 32))
    model.decode_head(feats).mean().backward()


def test_sync_bn_becomes_gloo_sync_bn_in_a_gloo_group_keeping_its_state(tmp_path):
    from vipseg.models.utils.sync_bn import GlooSyncBatchNorm

    layer = nn.Sequential(nn.SyncBatchNorm(4, momentum=0.3))
    with torch.no_grad():
        layer[0].weight.uniform_()
        layer[0].running_mean.fill_(2.0)
    state = {k: v.clone() for k, v in layer.state_dict().items()}
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        converted = adapt_sync_bn(layer)[0]
    finally:
        dist.destroy_process_group()
    assert type(converted) is GlooSyncBatchNorm and converted.momentum == 0.3
    assert all(torch.equal(state[k], v) for k, v in nn.Sequential(converted).state_dict().items())
    # One process: the same numbers as BN, forward and running statistics.
    x = torch.randn(3, 4, 5, 5)
    reference = nn.BatchNorm2d(4, momentum=0.3)
    reference.load_state_dict(converted.state_dict())
    assert torch.allclose(converted(x), reference(x), atol=1e-6)
    assert torch.allclose(converted.running_var, reference.running_var)
