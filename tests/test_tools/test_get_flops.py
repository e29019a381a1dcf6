"""tools/analysis_tools/get_flops.py: parameters equal the built model's, FLOPs are printed."""

import re

from vipseg.registry import MODELS
from vipseg.utils import load_config

CONFIG = "configs/deeplabv3_r18_toycity.py"


def test_get_flops_prints_the_model_params_and_flops(run_tool):
    done = run_tool(["tools/analysis_tools/get_flops.py", CONFIG, "--shape", "64", "128"])
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "input (1, 3, 64, 128), mode='tensor'" in out
    params = int(re.search(r"^params: ([\d,]+)$", out, re.M).group(1).replace(",", ""))
    model = MODELS.build(load_config(CONFIG).model)
    assert params == sum(p.numel() for p in model.parameters())
    flops = float(re.search(r"^FLOPs: ([\d.]+) G", out, re.M).group(1))
    assert flops > 0
    assert re.search(r"\| auxiliary_heads +\| +[\d,]+ \| +[\d.]+ \| +not run \|", out), out
    assert "ops not counted:" in out


def test_flops_grow_with_the_input_size(run_tool):
    def gflops(h, w):
        done = run_tool(["tools/analysis_tools/get_flops.py", CONFIG, "--shape", str(h), str(w)])
        assert done.returncode == 0, done.stderr[-2000:]
        return float(re.search(r"^FLOPs: ([\d.]+) G", done.stdout, re.M).group(1))

    small, large = gflops(64, 128), gflops(128, 256)
    # Convolutions dominate, so four times the pixels is about four times the multiply-adds.
    assert 3.5 < large / small < 4.5
