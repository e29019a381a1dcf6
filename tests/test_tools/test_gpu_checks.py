"""tools/misc/gpu_checks.sh, the prepared GPU session, run at toy sizes on the CPU.

A lent GPU comes with a few minutes: a check that breaks there (a renamed option, a config
key that moved) costs the session. The cheapest checks run here end to end; the benchmark
tools they call are tested in their own files.
"""

import os
import subprocess

import cv2
import numpy as np
import pytest
from conftest import REPO


def _run(args, env):
    return subprocess.run(
        ["bash", "tools/misc/gpu_checks.sh", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )


@pytest.fixture
def tiny_camvid(tmp_path):
    """3 train and 1 val 64x96 images in CamVid's layout, 11 classes and void."""
    root = tmp_path / "camvid"
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("val", 1)):
        (root / "img_dir" / split).mkdir(parents=True)
        (root / "ann_dir" / split).mkdir(parents=True)
        for i in range(n):
            label = rng.integers(0, 11, (8, 12), np.uint8).repeat(8, 0).repeat(8, 1)
            label[0, :5] = 255
            image = rng.integers(0, 255, (64, 96, 3), np.uint8)
            cv2.imwrite(str(root / f"img_dir/{split}/{i}.jpg"), image)
            cv2.imwrite(str(root / f"ann_dir/{split}/{i}.png"), label)
    return root


def test_tiny_checks_run_and_report(tmp_path, tiny_camvid):
    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), CAMVID=str(tiny_camvid), OMP_NUM_THREADS="1")
    result = _run(["--tiny", "crf", "camvid"], env)
    assert result.returncode == 0, result.stderr
    summary = (out / "summary.txt").read_text().splitlines()
    assert [line.split()[:2] for line in summary] == [
        ["crf", "rc=0"],
        ["pipeline_camvid", "rc=0"],
    ], summary
    assert "| torch | cpu | 64x128 |" in (out / "crf.log").read_text()
    busy = (out / "pipeline_camvid_busy.txt").read_text().splitlines()
    # 4 logged iterations, the first dropped as start-up
    assert [line.split(":")[0] for line in busy] == ["iter 2", "iter 3", "iter 4"], busy
    assert all("busy" in line for line in busy)
    assert "torch" in (out / "env.txt").read_text()


def test_unknown_check_is_refused_before_anything_runs(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path / "out"))
    result = _run(["--tiny", "crf", "crf_gpu"], env)
    assert result.returncode == 2
    assert "unknown check: crf_gpu" in result.stderr
    assert not (tmp_path / "out" / "summary.txt").exists()
