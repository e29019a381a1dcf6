"""SegLogProcessor (the default runtime's): what reaches the backends' scalar dicts."""

from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub
from mmengine.runner import log_processor as mmengine_log_processor

from vipseg.registry import LOG_PROCESSORS
from vipseg.utils import load_config


def _processor():
    cfg = dict(load_config("configs/deeplabv3_r18_toycity.py").log_processor)
    return LOG_PROCESSORS.build(cfg)


def _runner(name: str, scalars: dict[str, list[float]]):
    hub = MessageHub.get_instance(name)
    for key, values in scalars.items():
        for value in values:
            hub.update_scalar(key, value)
    hub.update_info("eta", 10)
    loader = [None] * 4
    return SimpleNamespace(
        message_hub=hub,
        iter=9,
        max_iters=100,
        _train_loop=object(),
        val_loop=SimpleNamespace(dataloader=loader),
        model=None,
    )


def test_training_tag_has_losses_lr_grad_norm_times_and_gpu_memory_on_cuda(monkeypatch):
    monkeypatch.setattr(mmengine_log_processor, "is_cuda_available", lambda: True)
    monkeypatch.setattr(mmengine_log_processor, "get_max_cuda_memory", lambda device=None: 1234)
    runner = _runner(
        "logproc-train",
        {
            "train/lr": [0.01],
            "train/time": [0.5, 0.3],
            "train/data_time": [0.1, 0.1],
            "train/loss": [2.0, 1.0],
            "train/grad_norm": [4.0, 2.0],
        },
    )
    runner.model = SimpleNamespace(device=None)
    tag, log = _processor().get_log_after_iter(runner, 9, "train")
    assert tag["memory"] == 1234 and "memory: 1234" in log
    assert tag["loss"] == pytest.approx(1.5)  # losses: mean over the window
    assert tag["grad_norm"] == 2.0  # measured once per log interval: the latest, not a mean
    assert tag["time"] == pytest.approx(0.4) and tag["lr"] == 0.01


def test_validation_timings_are_renamed_apart_from_trainings(monkeypatch):
    monkeypatch.setattr(mmengine_log_processor, "is_cuda_available", lambda: False)
    runner = _runner("logproc-val", {"val/time": [0.2], "val/data_time": [0.05]})
    runner.message_hub.update_scalar("train/time", 0.9)
    tag, _ = _processor().get_log_after_epoch(runner, 4, "val")
    assert tag["val_time"] == pytest.approx(0.2) and tag["val_data_time"] == pytest.approx(0.05)
    assert "time" not in tag and "data_time" not in tag
