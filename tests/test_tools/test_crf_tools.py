"""tools/analysis_tools/benchmark_crf.py and tune_crf.py at tiny sizes."""

import re
from pathlib import Path

import pytest

from vipseg.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"


def test_benchmark_crf_times_both_backends(run_tool):
    pytest.importorskip("pydensecrf.densecrf")
    args = ["tools/analysis_tools/benchmark_crf.py", "--sizes", "24x40", "40x32", "--repeat", "1"]
    result = run_tool([*args, "--warmup", "0", "--classes", "4", "--device", "cpu"])
    assert result.returncode == 0, result.stderr[-3000:]
    rows = re.findall(
        r"^\| (torch|pydensecrf) \| cpu \| (\d+x\d+) \| ([\d.]+) \|$", result.stdout, re.M
    )
    assert [r[:2] for r in rows] == [
        ("torch", "24x40"),
        ("torch", "40x32"),
        ("pydensecrf", "24x40"),
        ("pydensecrf", "40x32"),
    ]
    assert all(float(r[2]) > 0 for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--sizes", "512by1024"], "--sizes takes HxW"), (["--backends", "fast"], "--backends")],
)
def test_benchmark_crf_bad_arguments_are_one_clear_message(args, message, capsys, load_tool):
    tool = load_tool("tools/analysis_tools/benchmark_crf.py")
    with pytest.raises(SystemExit) as exit_info:
        tool.main(args)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_tune_crf_prints_a_sorted_table_and_a_config_block(toycity_root, init_checkpoint, run_tool):
    args = ["tools/analysis_tools/tune_crf.py", CONFIG, init_checkpoint, "--num-images", "2"]
    args += ["--w1", "3", "5", "--theta-alpha", "60", "--theta-beta", "5", "--device", "cpu"]
    result = run_tool([*args, "--data-root", str(toycity_root)])
    assert result.returncode == 0, result.stderr[-3000:]
    table = re.findall(
        r"^\| (\S+) \| (\S+) \| (\S+) \| (\S+) \| (\S+) \| ([\d.]+) \|$", result.stdout, re.M
    )
    assert len(table) == 3 and {row[0] for row in table} == {"3", "5", "-"}
    # Progress with ETA on stderr, so stdout stays the results.
    assert "model on val: 2/2 (100%)" in result.stderr and "CRF grid: 2/2 (100%)" in result.stderr
    scores = [float(row[-1]) for row in table]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    block = re.search(r"^crf = dict\(.*\)$", result.stdout, re.M).group(0)
    namespace: dict = {}
    exec(block, namespace)  # the snippet is a valid config line
    crf = namespace["crf"]
    assert crf["w1"] in (3, 5) and crf["theta_alpha"] == 60 and crf["backend"] == "torch"
    assert type(MODELS.build(crf)).__name__ == "DenseCRF"
