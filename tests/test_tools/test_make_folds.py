"""tools/analysis_tools/make_folds.py: stratified folds of train+val, one config per fold."""

from pathlib import Path

import pytest

from vipseg.registry import DATASETS
from vipseg.utils import load_config

TOOL = "tools/analysis_tools/make_folds.py"
CONFIG = "configs/deeplabv3_r18_toycity.py"
VAL_PREFIX = "val_dataloader.dataset.data_prefix"


def _make_folds(run_tool, root, out_dir, *extra):
    cmd = [TOOL, CONFIG, "--data-root", str(root), "--out-dir", str(out_dir), *extra]
    return run_tool(cmd, timeout=120)


def _stems(path: Path) -> list[str]:
    return path.read_text().split()


@pytest.fixture(scope="module")
def two_folds(toycity_root, run_tool, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("folds")
    done = _make_folds(run_tool, toycity_root, out_dir, "--folds", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    return out_dir, done.stdout


def test_folds_partition_train_and_val(two_folds, toycity_root):
    out_dir, stdout = two_folds
    images = sorted(toycity_root.glob("leftImg8bit/*/*/*_leftImg8bit.png"))
    expected = {
        str(p.relative_to(toycity_root / "leftImg8bit"))[: -len("_leftImg8bit.png")] for p in images
    }
    assert len(expected) == 6  # 4 train + 2 val
    vals = [_stems(out_dir / f"fold{k}_val.txt") for k in range(2)]
    assert sorted(vals[0] + vals[1]) == sorted(expected)
    for k in range(2):
        train = _stems(out_dir / f"fold{k}_train.txt")
        assert set(train).isdisjoint(vals[k]) and set(train) | set(vals[k]) == expected
        assert (out_dir / f"fold{k}.py").is_file()
    assert {len(v) for v in vals} == {3}
    assert "largest deviation from the ideal share" in stdout and "random" in stdout
    assert "tools/train.py" in stdout


def test_fold_config_loads_and_its_datasets_build(two_folds):
    out_dir, _ = two_folds
    cfg = load_config(str(out_dir / "fold1.py"))
    assert cfg.train_dataloader.dataset.ann_file == str(out_dir / "fold1_train.txt")
    assert cfg.train_dataloader.dataset.data_prefix == dict(
        img_path="leftImg8bit", seg_map_path="gtFine"
    )
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(train) == len(_stems(out_dir / "fold1_train.txt")) == 3
    assert len(val) == len(_stems(out_dir / "fold1_val.txt")) == 3
    assert cfg.test_dataloader.dataset.ann_file == str(out_dir / "fold1_val.txt")
    assert cfg.train_dataloader.dataset.pipeline[-1]["type"] == "PackSegInputs"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--folds", "1"], "--folds must be between 2 and the 6 images"),
        (["--folds", "7"], "--folds must be between 2 and the 6 images"),
        (["--folds", "2", "--splits", "train", "bogus"], "unknown split 'bogus'"),
        (["--folds", "2", "--splits", "val", "test"], "is in both splits val and test"),
        (
            ["--folds", "2", "--cfg-options", f"{VAL_PREFIX}.seg_map_path=x/val"],
            "images and label maps are laid out differently",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_line(toycity_root, run_tool, tmp_path, extra, message):
    done = _make_folds(run_tool, toycity_root, tmp_path / "out", *extra)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vipseg: error: ") and message in lines[0]
    assert not (tmp_path / "out").exists()
