"""A training run SIGKILLed at a random iteration, resumed, ends exactly as an uninterrupted one."""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import fast_train_for

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"
ITERS = 8
# Checkpoints every 2 iterations (FAST_TRAIN's), validation and a best file every 4.
OPTIONS = [*fast_train_for(ITERS), "train_cfg.val_interval=4"]
OPTIONS += ["default_hooks.checkpoint.save_best=mIoU"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def _command(work_dir: Path, data_root: Path, *extra: str) -> list[str]:
    args = [sys.executable, "tools/train.py", CONFIG, "--work-dir", str(work_dir), *extra]
    return [*args, "--data-root", str(data_root), "--cfg-options", *OPTIONS]


def _weights(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def uninterrupted(toycity_root, tmp_path_factory) -> Path:
    work_dir = tmp_path_factory.mktemp("uninterrupted")
    result = subprocess.run(
        _command(work_dir, toycity_root), cwd=REPO, env=ENV, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return work_dir


def _kill_at(iteration: int, work_dir: Path, data_root: Path) -> None:
    """Start training and SIGKILL it as soon as it logs ``iteration``."""
    proc = subprocess.Popen(
        _command(work_dir, data_root),
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in proc.stdout:
        if f"Iter(train) [{iteration}/{ITERS}]" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.stdout.close()
    assert proc.wait(timeout=120) == -signal.SIGKILL, f"the run ended before iteration {iteration}"


def test_killed_run_resumes_and_ends_identical_to_an_uninterrupted_one(
    uninterrupted, toycity_root, tmp_path
):
    iteration = random.randint(3, ITERS - 1)  # after the first checkpoint, before the end
    _kill_at(iteration, tmp_path, toycity_root)
    resumed = subprocess.run(
        _command(tmp_path, toycity_root, "--resume"),
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
    )
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, f"killed at {iteration}: {log[-3000:]}"
    start = (iteration - 1) // 2 * 2  # the last checkpoint written before the kill
    print(f"killed at iteration {iteration}, resumed from {start}")  # shown with pytest -s
    assert f"resumed epoch: 0, iter: {start}" in log, f"killed at {iteration}"
    final, reference = (
        _weights(tmp_path / f"iter_{ITERS}.pth"),
        _weights(uninterrupted / f"iter_{ITERS}.pth"),
    )
    # Bit-identical on CPU: same data replayed, torch's generator restored, same best record.
    assert final.keys() == reference.keys()
    different = [k for k in final if not torch.equal(final[k], reference[k])]
    assert not different, f"killed at {iteration}, resumed from {start}: {different[:5]}"
    best = sorted(p.name for p in tmp_path.glob("best_*.pth"))
    assert best == sorted(p.name for p in uninterrupted.glob("best_*.pth")), iteration
