"""The training step reads nothing back from its tensors except on logged iterations.

On a GPU, reading a value (``.item()``, ``float()``, ``bool()``, ``.tolist()``, ``.cpu()``)
waits for every queued kernel, so the CPU can no longer prepare the next step while the GPU
runs this one. This test runs real training iterations through mmengine's Runner with the
demo config and records every such read on a tensor, with the iteration it happened in, and
every aten op that would make a CUDA step wait for the host (``tests/host_sync.py``: a
boolean-mask index, ``nonzero``, ``bincount``, ...), which no Python-level spy can see.
"""

import traceback
import warnings
from pathlib import Path

import pytest
import torch
from host_sync import SyncOpRecorder
from mmengine.hooks import Hook
from mmengine.runner import Runner

from vipseg.utils import apply_speed_settings, load_config

REPO = Path(__file__).resolve().parents[2]
READS = ("item", "tolist", "__bool__", "__float__", "__int__", "cpu", "numpy")
# The data side's tensors live on the host (the sampler's random permutation, the pipeline's
# arrays): reading them never waits for the GPU.
HOST_SIDE = ("mmengine/dataset/", "torch/utils/data/", "vipseg/datasets/")
STATE = {"iter": None}


class _IterationMarker(Hook):
    """Marks which training iteration is running (None between iterations)."""

    priority = "HIGHEST"

    def __init__(self, recorder: SyncOpRecorder):
        self.recorder = recorder

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        STATE["iter"] = self.recorder.tag = runner.iter
        self.recorder.active = True

    def after_train_epoch(self, runner):
        STATE["iter"] = None
        self.recorder.active = False


def _demo_runner(toycity_root, work_dir) -> Runner:
    """The demo config for 7 iterations, logging every 3rd, as tools/train.py sets it up."""
    cfg = load_config(str(REPO / "configs/deeplabv3_r18_toycity.py"))
    cfg.work_dir, cfg.launcher, cfg.log_level = str(work_dir), "none", "WARNING"
    cfg.train_dataloader.dataset.data_root = str(toycity_root)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_iters=7, val_interval=100)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.logger.interval = 3
    cfg.default_hooks.checkpoint.interval = 100
    cfg.param_scheduler[0].end = 7
    apply_speed_settings(cfg)  # as tools/train.py: fused SGD / AdamW
    assert cfg.optim_wrapper.optimizer.get("fused")
    return Runner.from_cfg(cfg)


LOGGED = {2, 5, 6}  # iterations 3 and 6 (interval 3) and the last, 7


def test_reads_happen_only_on_logged_iterations(toycity_root, tmp_path, monkeypatch):
    runner = _demo_runner(toycity_root, tmp_path)
    recorder = SyncOpRecorder(roots=("vipseg/", "mmengine/"))
    recorder.active = False  # from the first iteration on: not the Runner's set-up
    runner.register_hook(_IterationMarker(recorder))  # an instance: nothing enters the registry

    reads: list[tuple[int, str]] = []
    for name in READS:
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            where = traceback.extract_stack(limit=2)[0]
            if STATE["iter"] is not None and not any(h in where.filename for h in HOST_SIDE):
                reads.append((STATE["iter"], f"{_name} at {where.filename}:{where.lineno}"))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, spy)
    with recorder:
        runner.train()
    STATE["iter"] = None
    logged = LOGGED
    outside = [(i, what) for i, what in reads if i not in logged]
    assert not outside, outside[:10]
    assert {i for i, _ in reads} <= logged and reads  # the logged iterations do read
    syncing = [op for op in recorder.ops if op[0] not in logged]
    assert not syncing, syncing[:10]
    assert {op[0] for op in recorder.ops} <= logged and recorder.ops  # .item() is aten too


class _SyncDebugOutsideLogging(Hook):
    """CUDA's own sync detector on for the iterations that log nothing."""

    priority = "HIGHEST"

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        torch.cuda.set_sync_debug_mode("default" if runner.iter in LOGGED else "warn")

    def after_train_epoch(self, runner):
        torch.cuda.set_sync_debug_mode("default")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_reports_no_synchronisation_outside_logged_iterations(toycity_root, tmp_path):
    runner = _demo_runner(toycity_root, tmp_path)
    assert next(runner.model.parameters()).is_cuda
    runner.register_hook(_SyncDebugOutsideLogging())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            runner.train()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [
        f"{w.filename}:{w.lineno}: {w.message}" for w in caught if "synchroniz" in str(w.message)
    ]
    assert not syncs, syncs[:10]
