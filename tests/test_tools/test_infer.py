"""tools/infer.py: an image or a folder in, color / overlay / label PNGs out."""

import cv2
import numpy as np
import pytest

from vipseg.apis import inference_model, init_model
from vipseg.datasets.cityscapes_labels import PALETTE

CONFIG = "configs/deeplabv3_r18_toycity.py"


def test_folder_gives_color_and_overlay_per_image_keeping_the_structure(
    toycity_root, init_checkpoint, tmp_path, run_tool
):
    folder = toycity_root / "leftImg8bit" / "val"
    out = tmp_path / "out"
    args = ["tools/infer.py", CONFIG, init_checkpoint, str(folder), "--out-dir", str(out)]
    result = run_tool([*args, "--batch-size", "2"])
    assert result.returncode == 0, result.stderr[-3000:]
    images = sorted(p.relative_to(folder) for p in folder.rglob("*.png"))
    assert f"segmented {len(images)} images" in result.stdout
    assert "infer: 1/1 (100%)" in result.stderr  # one batch of two, with a progress line
    for kind in ("color", "overlay"):
        assert sorted(p.relative_to(out / kind) for p in (out / kind).rglob("*.png")) == images
    image = cv2.imread(str(folder / images[0]))
    color = cv2.imread(str(out / "color" / images[0]))[..., ::-1]
    assert color.shape == image.shape
    assert {tuple(c) for c in color.reshape(-1, 3)} <= {tuple(c) for c in PALETTE}
    blend = cv2.imread(str(out / "overlay" / images[0])).astype(int)
    expected = (image * 0.5 + color[..., ::-1] * 0.5).astype(int)
    assert np.abs(blend - expected).max() <= 1


def test_one_image_label_output_is_the_api_prediction(
    toycity_root, init_checkpoint, tmp_path, run_tool
):
    image = sorted((toycity_root / "leftImg8bit" / "val").rglob("*.png"))[0]
    args = ["tools/infer.py", CONFIG, init_checkpoint, str(image), "--out-dir", str(tmp_path)]
    result = run_tool([*args, "--kinds", "label"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (tmp_path / "color").exists()
    label = cv2.imread(str(tmp_path / "label" / image.name), cv2.IMREAD_UNCHANGED)
    model = init_model(CONFIG, init_checkpoint)
    expected = inference_model(model, str(image)).pred_sem_seg.data.squeeze(0).numpy()
    assert label.dtype == np.uint8 and (label == expected).all()


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_bad_input_is_one_clear_message(kind, init_checkpoint, tmp_path, run_tool):
    target = tmp_path / "nowhere" if kind == "missing" else tmp_path
    args = ["tools/infer.py", CONFIG, init_checkpoint, str(target), "--out-dir", str(tmp_path)]
    result = run_tool(args)
    assert result.returncode == 2
    message = "does not exist" if kind == "missing" else "holds no images"
    assert result.stderr.startswith("vipseg: error: input") and "Traceback" not in result.stderr
    assert f"{target} {message}" in result.stderr
