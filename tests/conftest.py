"""Shared fixtures: a small generated toy city, a checkpoint, running the tools."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vipseg.utils import register_all_modules

register_all_modules()

# `make test` runs the suite on 2 pytest-xdist workers: one thread each keeps them from
# competing for the same 2 cores (the tools the tests start run single-threaded already).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = "configs/deeplabv3_r18_toycity.py"
# A few iterations on tiny crops: the wiring is under test, not the accuracy.
FAST_TRAIN = [
    "train_cfg.max_iters=4",
    "train_cfg.val_interval=2",
    "default_hooks.checkpoint.interval=2",
    "default_hooks.logger.interval=1",
    "train_dataloader.batch_size=2",
    "train_dataloader.num_workers=0",
    "train_dataloader.persistent_workers=False",
    "val_dataloader.num_workers=0",
    "val_dataloader.persistent_workers=False",
    "test_dataloader.num_workers=0",
    "test_dataloader.persistent_workers=False",
    "param_scheduler.0.end=4",
]


class RunsCode:
    """What a crafted checkpoint holds: unpickling it runs ``touch marker`` (``os.system``)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def fast_train_for(iters: int) -> list[str]:
    """``FAST_TRAIN`` for ``iters`` iterations (the schedule ends with them)."""
    options = [o for o in FAST_TRAIN if not o.startswith(("train_cfg.max_iters", "param_sch"))]
    return [*options, f"train_cfg.max_iters={iters}", f"param_scheduler.0.end={iters}"]


@pytest.fixture(scope="session")
def toycity_root(tmp_path_factory):
    """A tiny toy city (4 train / 2 val images of 128x256) in the Cityscapes layout."""
    from vipseg.datasets.toycity import make_toycity

    root = tmp_path_factory.mktemp("toycity")
    make_toycity(root, num_train=4, num_val=2, height=128, width=256, seed=0)
    return root


@pytest.fixture(scope="session")
def init_checkpoint(tmp_path_factory) -> str:
    """A checkpoint of the demo config's model at its (seeded) random initialisation."""
    from vipseg.registry import MODELS
    from vipseg.utils import load_config

    torch.manual_seed(0)
    model = MODELS.build(load_config(str(REPO / DEMO_CONFIG)).model)
    path = tmp_path_factory.mktemp("ckpt") / "init.pth"
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return str(path)


def _run_tool(args, env_extra=None, timeout=300, program=sys.executable):
    """``program *args`` from the repository root, single-threaded, output captured."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1", **(env_extra or {}))
    return subprocess.run(
        [program, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def run_tool():
    return _run_tool


def _load_tool(path: str):
    """A tool script (e.g. ``tools/train.py``) as a module, loaded once per session."""
    if path not in _TOOLS:
        name = "vipseg_tool_" + path.replace("/", "_").removesuffix(".py")
        spec = importlib.util.spec_from_file_location(name, REPO / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _TOOLS[path] = module
    return _TOOLS[path]


_TOOLS: dict = {}


@pytest.fixture(scope="session")
def load_tool():
    """``load_tool('tools/train.py')``: the script as a module, to call its functions."""
    return _load_tool


@pytest.fixture(scope="session")
def test_tool():
    """tools/test.py as a module, to call its parse_args / build_cfg directly."""
    return _load_tool("tools/test.py")


@pytest.fixture(scope="session")
def fast_train():
    """``--cfg-options`` that make the demo config train 4 tiny iterations, no workers."""
    return list(FAST_TRAIN)


@pytest.fixture(scope="session")
def toy_city_batch(toycity_root):
    """``make(crop)``: two train items of the demo pipeline, ``crop`` x ``crop``, collated.

    The crops and flips draw from numpy's and Python's generators, which are seeded so a
    batch does not depend on the tests that ran before; each size is made once per session.
    """
    import random

    import numpy as np
    from mmengine.dataset import pseudo_collate

    from vipseg.registry import DATASETS
    from vipseg.utils import load_config

    batches = {}

    def make(crop: int) -> dict:
        if crop not in batches:
            cfg = load_config(str(REPO / DEMO_CONFIG)).train_dataloader.dataset
            for step in cfg.pipeline:
                if step.type == "RandomCrop":
                    step.crop_size = (crop, crop)
            dataset = DATASETS.build({**cfg, "data_root": str(toycity_root)})
            np.random.seed(0)
            random.seed(0)
            batches[crop] = pseudo_collate([dataset[i] for i in range(2)])
        return batches[crop]

    return make


@pytest.fixture(scope="session")
def fit_batch():
    """``fit(model, batch, steps, lr)``: AdamW on the sum of a segmentor's ``loss*`` terms
    for ``steps`` steps on one batch; returns each step's loss dict as floats."""

    def fit(model, batch: dict, steps: int, lr: float) -> list[dict[str, float]]:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        history = []
        for _ in range(steps):
            losses = model(**model.data_preprocessor(dict(batch), training=True), mode="loss")
            total = sum(v for k, v in losses.items() if "loss" in k)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            history.append({k: v.item() for k, v in losses.items()})
        return history

    return fit


@pytest.fixture(scope="session")
def tracked_run(toycity_root, tmp_path_factory):
    """A real 5-iteration demo training run, validating at iterations 2, 4 and 5, with the
    TensorBoard and (offline) W&B switches on and a panel drawn for every val batch.

    Returns the work dir; its ``<timestamp>/vis_data/`` holds what the visualizer wrote.
    """
    work_dir = tmp_path_factory.mktemp("tracked")
    options = fast_train_for(5)
    options += ["visualizer.tensorboard=True", "visualizer.wandb=True"]
    options += ["default_hooks.visualization.interval=1"]
    args = ["tools/train.py", DEMO_CONFIG, "--work-dir", str(work_dir)]
    args += ["--data-root", str(toycity_root), "--cfg-options", *options]
    result = _run_tool(args, env_extra=dict(WANDB_MODE="offline", WANDB_SILENT="true"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return work_dir
