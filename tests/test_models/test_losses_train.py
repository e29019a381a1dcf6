"""Every loss trains the toy city: in a few steps, and in tools/train.py as a weighted list."""

import json
from pathlib import Path

import pytest
import torch

from vipseg.models.losses import registered_losses
from vipseg.registry import MODELS
from vipseg.utils import load_config

REPO = Path(__file__).resolve().parents[2]
DEMO = "configs/deeplabv3_r18_toycity.py"
LOSSES = registered_losses()


@pytest.mark.parametrize("name", LOSSES)
def test_loss_decreases_when_fitting_a_toy_city_batch(name, toy_city_batch, fit_batch):
    # 128x128 crops: a quarter of the demo's pixels is plenty to see a loss fall.
    cfg = load_config(DEMO)
    cfg.model.data_preprocessor.size = (128, 128)
    head = cfg.model.decode_head
    extra = dict(min_kept=2000, min_kept_size=(256, 256)) if name.startswith("Ohem") else {}
    head.loss_decode = dict(type=name, **extra)
    cfg.model.auxiliary_head = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    key = "decode." + MODELS.get(name)().loss_name
    values = [step[key] for step in fit_batch(model, toy_city_batch(128), steps=12, lr=3e-3)]
    assert all(torch.isfinite(torch.tensor(values)))
    assert min(values[-3:]) < 0.8 * values[0], values


def test_train_tool_with_every_loss_in_one_weighted_list(
    toycity_root, tmp_path, run_tool, fast_train
):
    terms = ", ".join(
        f"dict(type='{name}', loss_weight=0.2, loss_name='loss_{i}'"
        + (", min_kept=2000, min_kept_size=(256, 256))" if name.startswith("Ohem") else ")")
        for i, name in enumerate(LOSSES)
    )
    config = tmp_path / "all_losses.py"
    config.write_text(
        f"_base_ = '{REPO / DEMO}'\nmodel = dict(decode_head=dict(loss_decode=[{terms}]))\n"
    )
    args = ["tools/train.py", str(config), "--work-dir", str(tmp_path / "work")]
    result = run_tool([*args, "--data-root", str(toycity_root), "--cfg-options", *fast_train])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    logs = sorted((tmp_path / "work").glob("*/vis_data/scalars.json"))
    train = [json.loads(line) for line in logs[0].read_text().splitlines()]
    train = [s for s in train if "loss" in s]
    assert len(train) == 4
    for i in range(len(LOSSES)):
        assert all(f"decode.loss_{i}" in s and s[f"decode.loss_{i}"] >= 0 for s in train)
