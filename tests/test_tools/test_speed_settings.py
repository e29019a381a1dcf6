"""The fast defaults: bf16 autocast, channels-last, pinned memory, compile with a fallback."""

from pathlib import Path

import pytest
import torch

from vipseg.engine import SegAmpOptimWrapper
from vipseg.registry import MODELS
from vipseg.utils import load_config, speed

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / "configs/deeplabv3_r50_minicity.py")


@pytest.fixture(scope="module")
def train_tool(load_tool):
    return load_tool("tools/train.py")


def _cfg(train_tool, monkeypatch, cuda: bool, *argv: str):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    args = train_tool.parse_args([CONFIG, *argv])
    return train_tool.build_cfg(args)


def test_on_cuda_bf16_channels_last_and_pinned_memory_by_default(train_tool, monkeypatch):
    cfg = _cfg(train_tool, monkeypatch, True)
    assert cfg.optim_wrapper.type == "SegAmpOptimWrapper"
    assert cfg.model.data_preprocessor.channels_last is True
    assert cfg.train_dataloader.pin_memory and cfg.val_dataloader.pin_memory
    assert _cfg(train_tool, monkeypatch, True, "--no-amp").optim_wrapper.type == "OptimWrapper"


def test_on_cpu_fp32_contiguous_unless_amp_is_asked(train_tool, monkeypatch):
    cfg = _cfg(train_tool, monkeypatch, False)
    assert cfg.optim_wrapper.type == "OptimWrapper"
    assert not cfg.model.data_preprocessor.get("channels_last", False)
    assert "pin_memory" not in cfg.train_dataloader
    assert _cfg(train_tool, monkeypatch, False, "--amp").optim_wrapper.type == "SegAmpOptimWrapper"


def test_compile_falls_back_with_a_warning_when_unavailable(train_tool, monkeypatch):
    monkeypatch.setattr(speed.shutil, "which", lambda name: None)
    assert speed.compile_unavailable("cpu") == "no C++ compiler on PATH"
    assert _cfg(train_tool, monkeypatch, False, "--compile").compile is None
    monkeypatch.setattr(speed.shutil, "which", lambda name: "/usr/bin/c++")
    assert _cfg(train_tool, monkeypatch, False, "--compile").compile is True


def _tiny_segmentor(channels_last: bool):
    cfg = load_config(str(REPO / "configs/deeplabv3_r18_toycity.py")).model
    cfg.data_preprocessor.channels_last = channels_last
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_channels_last_converts_batch_and_weights_and_keeps_the_loss(toy_city_batch):
    batch = toy_city_batch(64)
    plain, nhwc = _tiny_segmentor(False), _tiny_segmentor(True)
    out = nhwc.data_preprocessor(dict(batch), training=True)
    assert out["inputs"].is_contiguous(memory_format=torch.channels_last)
    assert not out["inputs"].is_contiguous()
    conv = next(m for m in nhwc.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    losses = []
    for model in (plain, nhwc):
        torch.manual_seed(1)  # the same dropout masks
        losses.append(model(**model.data_preprocessor(dict(batch), training=True), mode="loss"))
    a, b = (sum(v for k, v in x.items() if "loss" in k) for x in losses)
    assert torch.allclose(a, b, rtol=1e-4)


def test_bf16_wrapper_autocasts_the_forward_and_keeps_fp32_weights(toy_city_batch):
    model = _tiny_segmentor(False)
    wrapper = SegAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.01))
    seen = []
    conv = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    log_vars = model.train_step(toy_city_batch(64), wrapper)
    assert seen == [torch.bfloat16]
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert torch.isfinite(log_vars["loss"]) and not hasattr(wrapper, "loss_scaler")
