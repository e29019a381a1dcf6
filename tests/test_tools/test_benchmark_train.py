"""tools/analysis_tools/benchmark_train.py at tiny sizes on CPU (timings are not asserted)."""

import re
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench(load_tool):
    return load_tool("tools/analysis_tools/benchmark_train.py")


def test_vipseg_and_the_seed_loop_in_one_run(run_tool):
    args = ["tools/analysis_tools/benchmark_train.py", "configs/deeplabv3_r18_toycity.py"]
    args += ["--batch", "2", "--crop", "48", "64", "--steps", "1", "--warmup", "0"]
    result = run_tool([*args, "--profile", "3"])
    assert result.returncode == 0, result.stderr[-3000:]
    pattern = r"^\| ([^|]+) \| (fp32|bf16 autocast) \| ([\d.e+-]+) \| ([\d.]+) \|"
    rows = re.findall(pattern, result.stdout, re.M)
    # auto reference: ResNet-50 for a model that is not depth 101; CPU runs stay fp32.
    names = [(r[0], r[1]) for r in rows]
    assert names == [("deeplabv3_r18_toycity", "fp32"), ("seed-style deeplabv3_resnet50", "fp32")]
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    assert re.search(r"vipseg / reference: [\d.]+x images/s", result.stdout)
    assert "crop (48, 64)" in result.stdout
    assert "Self CPU" in result.stdout  # --profile: torch.profiler's operator table


def test_step_flops_are_three_forward_passes_of_two_flops_per_mac(bench):
    conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
    # 8 x 3 x 9 MACs per output pixel, 16 x 16 pixels; x2 FLOPs per MAC; x3 forward + backward.
    assert bench.step_flops(conv, (16, 16), "cpu") == 8 * 3 * 9 * 16 * 16 * 2 * 3


def test_synthetic_batch_is_what_the_loader_collates(bench):
    batch = bench.synthetic_batch(3, (8, 12), num_classes=5)
    assert len(batch["inputs"]) == 3 and batch["inputs"][0].dtype == torch.uint8
    labels = batch["data_samples"][0].gt_sem_seg.data
    assert labels.shape == (1, 8, 12) and int(labels.max()) < 5


def test_bad_sizes_are_refused(run_tool):
    args = ["tools/analysis_tools/benchmark_train.py", "configs/deeplabv3_r18_toycity.py"]
    result = run_tool([*args, "--batch", "0"])
    assert result.returncode != 0 and "must be >= 1" in result.stderr


def test_vipseg_computes_on_the_crop_not_the_configs_padding_size(bench, tmp_path):
    args = bench.parse_args(["configs/deeplabv3_r50_minicity.py", "--crop", "40", "56"])
    args.config = str(REPO / args.config)
    model, _, cfg = bench.build_vipseg(args, str(tmp_path))
    assert cfg.model.data_preprocessor.size == (40, 56)  # the config pads to 512 x 1024
    out = model.data_preprocessor(bench.synthetic_batch(1, (40, 56), 19), training=True)
    assert tuple(out["inputs"].shape[-2:]) == (40, 56)
