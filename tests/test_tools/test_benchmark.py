"""tools/analysis_tools/benchmark.py times train steps of a config on its own data."""

import platform
import sys

from vipseg.utils import keep_freed_memory


def test_benchmark_reports_seconds_per_iteration(toycity_root, run_tool):
    cmd = [
        "tools/analysis_tools/benchmark.py",
        "configs/deeplabv3_r18_toycity.py",
        "--iters", "1",
        "--warmup", "1",
        "--data-root", str(toycity_root),
        "--cfg-options", "train_dataloader.batch_size=2",
    ]  # fmt: skip
    done = run_tool(cmd, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "deeplabv3_r18_toycity.py: batch 2," in done.stdout and "s/iter" in done.stdout


def test_keep_freed_memory_applies_on_glibc_linux():
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert keep_freed_memory() is glibc


def test_benchmark_data_only_times_the_pipeline(toycity_root, run_tool):
    cmd = [
        "tools/analysis_tools/benchmark.py",
        "configs/deeplabv3_r18_toycity.py",
        "--data-only",
        "--iters", "3",
        "--data-root", str(toycity_root),
    ]  # fmt: skip
    done = run_tool(cmd, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "train pipeline" in done.stdout and "samples/s in one process" in done.stdout


def test_benchmark_losses_times_every_registered_loss(run_tool):
    from vipseg.models.losses import registered_losses

    cmd = ["tools/analysis_tools/benchmark_losses.py", "--shape", "2", "3", "8", "8"]
    done = run_tool([*cmd, "--ignore-rows", "2", "--iters", "1"], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    timed = {line.split()[0] for line in done.stdout.splitlines() if " ms " in line}
    assert timed == set(registered_losses()) and "OhemCrossEntropyLoss" in timed
