"""tools/test.py --out-dir: a Cityscapes submission the official evaluator scores as we do."""

import json
import math
import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from vipseg.datasets.cityscapes_labels import LABELS

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"
LOADER = ["test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"]


def test_submission_is_scored_by_cityscapesscripts_as_by_vipseg(
    init_checkpoint, toycity_root, tmp_path, monkeypatch, run_tool
):
    work = tmp_path / "work"
    export = ["--out-dir", "sub", "--zip", "--color", "--overlay"]
    args = ["--data-root", str(toycity_root), "--work-dir", str(work), *export]
    result = run_tool(["tools/test.py", CONFIG, init_checkpoint, *args, "--cfg-options", *LOADER])
    assert result.returncode == 0, result.stderr[-3000:]
    gts = sorted(toycity_root.glob("gtFine/val/*/*_gtFine_labelIds.png"))
    preds = sorted((work / "sub").glob("*_leftImg8bit.png"))
    assert [p.name.replace("_leftImg8bit", "") for p in preds] == [
        g.name.replace("_gtFine_labelIds", "") for g in gts
    ]
    label_ids = {lb.id for lb in LABELS if 0 <= lb.train_id < 255}
    for pred, gt in zip(preds, gts):
        array = cv2.imread(str(pred), cv2.IMREAD_UNCHANGED)
        assert array.dtype == np.uint8 and array.shape == cv2.imread(str(gt), 0).shape
        assert set(np.unique(array)) <= label_ids  # label IDs, not train IDs
    assert len(list((work / "sub" / "color").glob("*.png"))) == len(preds)
    assert len(list((work / "sub" / "overlay").glob("*.png"))) == len(preds)
    with zipfile.ZipFile(work / "sub" / "submission.zip") as archive:
        assert sorted(archive.namelist()) == [p.name for p in preds]

    logged = [json.loads(line) for log in work.glob("*/*.json") for line in log.open()]
    ours = next(entry for entry in logged if "iIoU" in entry)
    if not hasattr(np, "in1d"):  # removed in numpy 2.4; cityscapesscripts 2.3.0 still calls it
        monkeypatch.setattr(np, "in1d", np.isin, raising=False)
    ev = pytest.importorskip("cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
    monkeypatch.setattr(ev.args, "quiet", True)
    monkeypatch.setattr(ev.args, "JSONOutput", False)
    official = ev.evaluateImgLists([str(p) for p in preds], [str(g) for g in gts], ev.args)
    for key, theirs in (("mIoU", "averageScoreClasses"), ("iIoU", "averageScoreInstClasses"),
                        ("catIoU", "averageScoreCategories")):  # fmt: skip
        assert math.isclose(ours[key], official[theirs], abs_tol=1e-4), key  # log rounds to 4


def test_format_only_predicts_a_split_without_labels(
    init_checkpoint, toycity_root, tmp_path, run_tool
):
    root = tmp_path / "unlabelled"
    shutil.copytree(toycity_root / "leftImg8bit", root / "leftImg8bit")  # no gtFine at all
    args = ["--data-root", str(root), "--work-dir", str(tmp_path / "w")]
    args += ["--out-dir", "sub", "--format-only", "--cfg-options", *LOADER]
    result = run_tool(["tools/test.py", CONFIG, init_checkpoint, *args])
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "w" / "sub").glob("*_leftImg8bit.png"))) == 2


def test_export_options_need_out_dir(init_checkpoint, tmp_path, run_tool):
    args = [CONFIG, init_checkpoint, "--work-dir", str(tmp_path), "--zip"]
    result = run_tool(["tools/test.py", *args])
    assert result.returncode == 2
    assert "need --out-dir" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("config", "load"),
    [
        ("configs/deeplabv3_r18_camvid.py", dict(type="LoadAnnotations")),
        (CONFIG, dict(type="LoadAnnotations", with_instance=True)),
    ],
)
def test_default_tta_loads_labels_as_the_test_pipeline_does(
    config, load, init_checkpoint, test_tool
):
    def build(*argv):
        args = test_tool.parse_args([str(REPO / config), init_checkpoint, *argv])
        return test_tool.build_cfg(args)

    cfg = build("--tta")
    branches = cfg.test_dataloader.dataset.pipeline[1]["transforms"]
    assert cfg.model["type"] == "SegTTAModel" and len(branches[0]) == 8
    assert [dict(step) for step in branches[2]] == [load]
    cfg = build("--tta", "--out-dir", "x", "--format-only")
    branches = cfg.test_dataloader.dataset.pipeline[1]["transforms"]
    assert all(s["type"] != "LoadAnnotations" for branch in branches for s in branch)
    assert cfg.test_evaluator == []
