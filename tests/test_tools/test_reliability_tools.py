"""The tools under faults: a NaN loss, a crafted checkpoint, a checkpoint that does not fit."""

from pathlib import Path

import torch
from conftest import RunsCode

from vipseg.registry import MODELS
from vipseg.utils import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"
NO_WORKERS = ["test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"]


def test_a_nan_loss_stops_training_with_one_line_naming_the_iteration(
    toycity_root, tmp_path, run_tool, fast_train
):
    config = tmp_path / "nan_loss.py"
    config.write_text(
        f'_base_ = ["{REPO / CONFIG}"]\n'
        'model = dict(decode_head=dict(loss_decode=dict(loss_weight=float("nan"))))\n'
    )
    args = ["tools/train.py", str(config), "--work-dir", str(tmp_path / "work")]
    result = run_tool([*args, "--data-root", str(toycity_root), "--cfg-options", *fast_train])
    assert result.returncode == 3, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("vipseg: error: iteration 1: the loss or its gradients are not finite")
    assert "decode.loss_ce=nan" in last and "Traceback" not in result.stderr
    assert not list((tmp_path / "work").glob("*.pth"))  # nothing saved from a NaN step


def test_test_tool_refuses_a_checkpoint_that_would_run_code(toycity_root, tmp_path, run_tool):
    marker = tmp_path / "code_ran"
    model = MODELS.build(load_config(str(REPO / CONFIG)).model)
    crafted = tmp_path / "model.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict(x=RunsCode(marker))), crafted)
    args = ["tools/test.py", CONFIG, str(crafted), "--work-dir", str(tmp_path / "work")]
    result = run_tool([*args, "--data-root", str(toycity_root), "--cfg-options", *NO_WORKERS])
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"vipseg: error: checkpoint {crafted} was refused")
    assert "GLOBAL posix.system" in last
    assert not marker.exists()


def test_mismatched_keys_and_shapes_are_reported_by_name(
    toycity_root, init_checkpoint, tmp_path, run_tool
):
    state = torch.load(init_checkpoint, weights_only=True)["state_dict"]
    state.pop("decode_head.conv_seg.bias")
    state["decode_head.conv_seg.weight"] = torch.zeros(3, 64, 1, 1)
    state["old_head.weight"] = torch.ones(1)
    path = tmp_path / "other.pth"
    torch.save(dict(state_dict=state), path)
    args = ["tools/test.py", CONFIG, str(path), "--work-dir", str(tmp_path / "work")]
    result = run_tool([*args, "--data-root", str(toycity_root), "--cfg-options", *NO_WORKERS])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "missing keys in source state_dict: decode_head.conv_seg.bias" in log
    assert "unexpected key in source state_dict: old_head.weight" in log
    assert "size mismatch for decode_head.conv_seg.weight" in log and "[3, 64, 1, 1]" in log
