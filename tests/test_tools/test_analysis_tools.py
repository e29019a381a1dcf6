"""tools/analysis_tools/class_weights.py and dataset_stats.py on the generated toy city."""

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from vipseg.datasets.cityscapes_labels import label_id_to_train_id_lut
from vipseg.datasets.class_weights import class_weights
from vipseg.datasets.label_stats import build_split_dataset, class_pixel_counts
from vipseg.registry import MODELS
from vipseg.utils import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"
CLASS_WEIGHTS = "tools/analysis_tools/class_weights.py"
DATASET_STATS = "tools/analysis_tools/dataset_stats.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def train_counts(toycity_root) -> np.ndarray:
    """Pixel counts of the toy city's train split, through the library."""
    dataset = build_split_dataset(load_config(str(REPO / CONFIG)), "train", str(toycity_root))
    return class_pixel_counts(dataset)


def _ok(done) -> str:
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_printed_class_weights_equal_the_library(toycity_root, run_tool, train_counts):
    out = _ok(run_tool([CLASS_WEIGHTS, CONFIG, "--data-root", str(toycity_root)], timeout=120))
    line = re.search(r"^class_weight=\[(.*)\]$", out, re.M)
    assert line, out
    printed = [float(v) for v in line.group(1).split(",")]
    assert len(printed) == 19
    np.testing.assert_allclose(printed, class_weights(train_counts), atol=5e-5)
    # the toy city draws no train and no motorcycle: named, and given the largest weight
    assert "note: absent from the train split" in out and "'train', 'motorcycle'" in out
    assert printed[16] == printed[17] == max(printed)
    assert re.search(r"\| road +\| +\d+\.\d{3} +\| +\d\.\d{4} \|", out), out


def test_weights_file_loads_as_a_config_base(toycity_root, run_tool, train_counts, tmp_path):
    weights_file = tmp_path / "toycity_weights.py"
    cmd = [
        CLASS_WEIGHTS, CONFIG,
        "--data-root", str(toycity_root),
        "--method", "enet",
        "--power", "0.5",
        "--out", str(weights_file),
    ]  # fmt: skip
    out = _ok(run_tool(cmd, timeout=120))
    assert f"wrote 19 class weights to {weights_file}" in out
    text = weights_file.read_text()
    assert text.startswith("# Class weights of configs/deeplabv3_r18_toycity.py, train split.")
    assert "Method enet, power 0.5, normalized" in text
    leaf = tmp_path / "leaf.py"
    leaf.write_text(
        f"_base_ = [{str(REPO / 'configs/deeplabv3_r18_minicity.py')!r}, 'toycity_weights.py']\n"
        "model = dict(decode_head=dict(loss_decode=dict(class_weight={{_base_.class_weight}})))\n"
    )
    cfg = Config.fromfile(str(leaf))
    loaded = cfg.model.decode_head.loss_decode.class_weight
    expected = class_weights(train_counts, "enet", power=0.5)
    np.testing.assert_allclose(loaded, expected, atol=5e-5)
    assert cfg.class_names[0] == "road" and len(cfg.class_names) == 19
    loss = MODELS.build(cfg.model.decode_head.loss_decode)
    assert loss.class_weight.shape == (19,)


def _labelled_pixels(root: Path) -> tuple[int, int]:
    """(non-ignored, all) label pixels of the train split, straight from the label files."""
    lut = label_id_to_train_id_lut()
    files = sorted((root / "gtFine" / "train").glob("*/*_gtFine_labelIds.png"))
    assert len(files) == 4
    labels = [lut[cv2.imread(str(f), cv2.IMREAD_UNCHANGED)] for f in files]
    return sum(int((lab != 255).sum()) for lab in labels), sum(lab.size for lab in labels)


def test_dataset_stats_writes_charts_and_json(toycity_root, run_tool, tmp_path):
    out_dir = tmp_path / "eda"
    cmd = [
        DATASET_STATS, CONFIG,
        "--data-root", str(toycity_root),
        "--out-dir", str(out_dir),
        "--log-scale",
        "--workers", "2",
    ]  # fmt: skip
    out = _ok(run_tool(cmd, timeout=120))
    assert "one image size, 128x256: no image_sizes.png" in out
    for name in ("class_pixels.png", "class_images.png"):
        data = (out_dir / name).read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)
    assert not (out_dir / "image_sizes.png").exists()
    stats = json.loads((out_dir / "stats.json").read_text())
    labelled, total = _labelled_pixels(toycity_root)
    assert sum(row["pixels"] for row in stats["classes"]) == labelled == stats["labelled_pixels"]
    assert stats["ignore_pixels"] == total - labelled > 0
    assert stats["image_sizes"] == [dict(height=128, width=256, images=4)]
    assert stats["absent_classes"] == ["train", "motorcycle"]
    assert len(stats["classes"]) == 19 and stats["num_images"] == 4


@pytest.mark.parametrize("tool", [CLASS_WEIGHTS, DATASET_STATS])
@pytest.mark.parametrize(
    "args, message",
    [
        (["configs/no_such_config.py"], "config file configs/no_such_config.py does not exist"),
        ([CONFIG, "--split", "trian"], "split must be one of ('train', 'val', 'test')"),
    ],
)
def test_bad_input_is_one_error_line(run_tool, toycity_root, tool, args, message):
    done = run_tool([tool, *args, "--data-root", str(toycity_root)], timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vipseg: error: "), done.stderr
    assert message in lines[0]
