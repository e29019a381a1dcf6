"""tools/train.py and tools/test.py end to end on a generated toy city."""

import json
import re
import shutil
import sys
from pathlib import Path

import cv2
import pytest

from vipseg.datasets.cityscapes_labels import PALETTE

CONFIG = "configs/deeplabv3_r18_toycity.py"


def _train(run_tool, fast_train, work_dir, data_root, *extra: str):
    args = ["--work-dir", str(work_dir), "--data-root", str(data_root), *extra]
    return run_tool(["tools/train.py", CONFIG, *args, "--cfg-options", *fast_train])


def _scalars(work_dir: Path) -> list[dict]:
    logs = sorted(work_dir.glob("*/vis_data/scalars.json"))
    return [json.loads(line) for log in logs for line in log.read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(toycity_root, tmp_path_factory, run_tool, fast_train):
    work_dir = tmp_path_factory.mktemp("train")
    result = _train(run_tool, fast_train, work_dir, toycity_root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return work_dir, result.stdout + result.stderr


def test_train_writes_checkpoints_and_validates(trained):
    work_dir, log = trained
    assert (work_dir / "iter_2.pth").is_file() and (work_dir / "iter_4.pth").is_file()
    assert (work_dir / "last_checkpoint").read_text().strip().endswith("iter_4.pth")
    assert "Score Average" in log and "road          : " in log
    val = [s for s in _scalars(work_dir) if "mIoU" in s]
    assert [s["step"] for s in val] == [2, 4]
    assert all(0 <= s["mIoU"] <= 1 for s in val)


def test_resume_continues_from_the_latest_checkpoint(trained, toycity_root, run_tool, fast_train):
    work_dir, _ = trained
    (work_dir / "last_checkpoint").write_text(str(work_dir / "iter_2.pth"))
    result = _train(run_tool, fast_train, work_dir, toycity_root, "--resume")
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "resumed epoch: 0, iter: 2" in log
    assert "Iter(train) [3/4]" in log and "Iter(train) [1/4]" not in log


def test_test_tool_evaluates_and_writes_color_predictions(
    trained, toycity_root, tmp_path, run_tool
):
    work_dir, _ = trained
    result = run_tool(
        [
            "tools/test.py",
            CONFIG,
            str(work_dir / "iter_4.pth"),
            "--work-dir",
            str(tmp_path),
            "--data-root",
            str(toycity_root),
            "--show-dir",
            "preds",
            "--cfg-options",
            "test_dataloader.num_workers=0",
            "test_dataloader.persistent_workers=False",
        ]
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "mIoU" in log and "Score Average" in log
    # Not a terminal: the progress bar is a log line per tenth of the batches, with an ETA.
    assert re.search(r"INFO - test: (\d+)/\1 \(100%\), 0:00:\d\d elapsed, ETA 0:00:00", log)
    preds = sorted((tmp_path / "preds").glob("*.png"))
    images = sorted(toycity_root.glob("leftImg8bit/val/*/*.png"))
    assert [p.stem for p in preds] == [p.stem for p in images]  # one per val image
    pred = cv2.imread(str(preds[0]))[..., ::-1]
    assert pred.shape[:2] == cv2.imread(str(images[0])).shape[:2]  # original size
    palette = {tuple(c) for c in PALETTE}
    assert {tuple(c) for c in pred.reshape(-1, 3)} <= palette  # class colours only


def test_ddp_two_processes_on_gloo(toycity_root, tmp_path, run_tool, fast_train):
    """tools/dist_train.sh: torchrun with 2 processes; gloo, as there is no GPU here."""
    args = [CONFIG, "2", "--work-dir", str(tmp_path), "--data-root", str(toycity_root)]
    env = dict(PYTHON=sys.executable, PORT="29533")
    result = run_tool(
        ["tools/dist_train.sh", *args, "--cfg-options", *fast_train], env_extra=env, program="bash"
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "vipseg: world size: 2, launcher: pytorch" in log
    assert (tmp_path / "iter_4.pth").is_file()
    assert any("mIoU" in s for s in _scalars(tmp_path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-root", "/nonexistent/root"], "data_root '/nonexistent/root' does not exist"),
        (["--cfg-options", "model.backbone.type=ResNot"], "model.backbone.type='ResNot'"),
    ],
)
def test_bad_input_is_one_clear_message(args, message, tmp_path, run_tool):
    result = run_tool(["tools/train.py", CONFIG, "--work-dir", str(tmp_path), *args])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_undecodable_image_in_a_worker_is_one_clear_message(toycity_root, tmp_path, run_tool):
    root = tmp_path / "toy"
    shutil.copytree(toycity_root, root)
    broken = sorted(root.glob("leftImg8bit/train/*/*.png"))[0]
    broken.write_bytes(b"garbage")
    options = ["train_dataloader.num_workers=1", "train_dataloader.batch_size=2"]
    args = ["--data-root", str(root), "--cfg-options", "train_cfg.max_iters=2", *options]
    result = run_tool(["tools/train.py", CONFIG, "--work-dir", str(tmp_path / "w"), *args])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"vipseg: error: cannot decode image {broken}: not a readable image (7 bytes)"
    )
    assert "Traceback" not in result.stderr
