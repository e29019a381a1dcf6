"""Atomic checkpoint files, the latest complete checkpoint, and safe loading."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import RunsCode

from vipseg.engine.checkpoint_io import (
    atomic_write,
    find_latest_checkpoint,
    is_complete_checkpoint,
    safe_load,
)
from vipseg.utils import DataError, MissingDataError

REPO = Path(__file__).resolve().parents[2]

# Rewrites one checkpoint forever, each version a different 40 MB tensor, as a long save would.
WRITER = """
import io, sys, torch
from vipseg.engine.checkpoint_io import atomic_write
path, version = sys.argv[1], 0
while True:
    version += 1
    buffer = io.BytesIO()
    torch.save(dict(version=version, w=torch.full((10_000_000,), float(version))), buffer)
    atomic_write(path, buffer.getvalue())
    print(version, flush=True)
"""


def _save(path: Path, **state) -> None:
    torch.save(state, path)


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_a_kill_during_a_save_leaves_a_whole_checkpoint(tmp_path, delay):
    """SIGKILL a process in the middle of rewriting a checkpoint: the file is the previous or
    the new version, whole, and loads; at most a stray temporary file is left."""
    path = tmp_path / "iter_1.pth"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    first = int(proc.stdout.readline())  # one version complete
    time.sleep(delay)  # then kill at some point of a later save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    state = torch.load(path, weights_only=True)
    assert state["version"] >= first and bool((state["w"] == state["version"]).all())
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".pth"] == ["iter_1.pth"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    path = tmp_path / "last_checkpoint"
    atomic_write(str(path), b"old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        atomic_write(str(path), b"new")
    assert path.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [path]


def test_latest_checkpoint_skips_a_truncated_target(tmp_path):
    for step in (2, 4, 6):
        _save(tmp_path / f"iter_{step}.pth", step=step)
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "iter_6.pth"))
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / "iter_6.pth")
    data = (tmp_path / "iter_6.pth").read_bytes()
    (tmp_path / "iter_6.pth").write_bytes(data[: len(data) // 2])  # a save cut short
    assert not is_complete_checkpoint(str(tmp_path / "iter_6.pth"))
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / "iter_4.pth")
    (tmp_path / "last_checkpoint").write_text("")  # a pointer cut short
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / "iter_4.pth")
    assert find_latest_checkpoint(str(tmp_path / "empty")) is None


def test_a_checkpoint_that_would_run_code_is_refused_and_the_code_does_not_run(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "crafted.pth"
    torch.save(dict(state_dict={}, meta=RunsCode(marker)), path)
    with pytest.raises(DataError, match=r"crafted.pth was refused.*(system|posix)"):
        safe_load(str(path))
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the control: unpickled freely, the code runs
    assert marker.exists()


def test_truncated_and_missing_checkpoints_are_clear_errors(tmp_path):
    path = tmp_path / "iter_2.pth"
    _save(path, w=torch.ones(1000))
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match="iter_2.pth cannot be read"):
        safe_load(str(path))
    with pytest.raises(MissingDataError, match="nowhere.pth does not exist"):
        safe_load(str(tmp_path / "nowhere.pth"))
