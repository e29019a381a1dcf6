"""Every loss trains the toy city: in a few steps, and in tools/train.py as a weighted list."""

import json
from pathlib import Path

import pytest
import torch
from mmengine.dataset import pseudo_collate

from vipseg.models.losses import BaseSegLoss
from vipseg.registry import DATASETS, MODELS
from vipseg.utils import load_config

REPO = Path(__file__).resolve().parents[2]
DEMO = "configs/deeplabv3_r18_toycity.py"
MODELS.import_from_location()
LOSSES = sorted(
    name
    for name, cls in MODELS.module_dict.items()
    if isinstance(cls, type) and issubclass(cls, BaseSegLoss)
)


@pytest.fixture(scope="module")
def toy_batch(toycity_root):
    cfg = load_config(DEMO)
    # 128x128 crops: a quarter of the demo's pixels is plenty to see a loss fall.
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == "RandomCrop":
            step.crop_size = (128, 128)
    cfg.model.data_preprocessor.size = (128, 128)
    dataset = DATASETS.build({**cfg.train_dataloader.dataset, "data_root": str(toycity_root)})
    torch.manual_seed(0)
    return cfg, pseudo_collate([dataset[i] for i in range(2)])


@pytest.mark.parametrize("name", LOSSES)
def test_loss_decreases_when_fitting_a_toy_city_batch(name, toy_batch):
    cfg, batch = toy_batch
    head = cfg.model.decode_head
    extra = dict(min_kept=2000, min_kept_size=(256, 256)) if name.startswith("Ohem") else {}
    head.loss_decode = dict(type=name, **extra)
    cfg.model.auxiliary_head = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    values = []
    for _ in range(12):
        data = model.data_preprocessor(batch, training=True)
        loss = model(**data, mode="loss")["decode." + MODELS.get(name)().loss_name]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        values.append(loss.item())
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
