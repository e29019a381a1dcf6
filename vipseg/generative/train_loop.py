"""The SPADE training loop of ``tools/generative/train_spade.py``: plain, resumable, logged.

A config holds ``generator``, ``discriminator`` (MODELS configs), ``train_dataloader`` (as
for segmentation; its pipeline must end in crops of one size), ``gan_cfg`` (schedule and
optimiser, :data:`GAN_DEFAULTS`) and ``randomness.seed``. The work dir receives
``iter_N.pth`` checkpoints with a ``last_checkpoint`` pointer (written atomically),
``samples/iter_N.png`` grids and ``<timestamp>/vis_data/scalars.json`` (one JSON object per
logged iteration, readable by ``tools/analysis_tools/plot_logs.py --keys loss_g loss_d``).
"""

import io
import json
import math
import os
import os.path as osp
import time

import torch
from mmengine.logging import MMLogger

from vipseg.engine.checkpoint_io import atomic_write, find_latest_checkpoint, safe_load
from vipseg.registry import DATASETS, MODELS
from vipseg.utils.errors import ConfigError, TrainingError

from .data import build_loader, stack_batch
from .label_input import label_channels
from .sample_grid import SampleGrid
from .trainer import OASISTrainer, SPADETrainer

GAN_DEFAULTS = dict(
    # 'spade': hinge + feature matching with MultiScalePatchDiscriminator; 'oasis': the
    # segmentation discriminator's class-balanced cross-entropy (OASISDiscriminator)
    objective="spade",
    max_iters=20000,
    lr_g=1e-4,
    lr_d=4e-4,
    betas=(0.0, 0.9),
    lambda_fm=10.0,
    lambda_labelmix=10.0,
    amp=True,  # bf16 on CUDA; tools/generative/train_spade.py --amp forces it on CPU too
    log_interval=50,
    sample_interval=1000,
    checkpoint_interval=1000,
    max_keep_ckpts=2,
    num_samples=6,
    # (w, h) the synthesis renders whole label maps at (keep ratio), normally the training
    # resize; tools/generative/synthesize.py reads it
    render_scale=None,
)


def gan_settings(cfg) -> dict:
    """``gan_cfg`` merged over :data:`GAN_DEFAULTS`; an unknown key is a ConfigError."""
    given = dict(cfg.get("gan_cfg") or {})
    unknown = sorted(set(given) - set(GAN_DEFAULTS))
    if unknown:
        raise ConfigError(
            f"config {cfg.filename}: unknown gan_cfg keys {unknown}; known: {sorted(GAN_DEFAULTS)}"
        )
    return {**GAN_DEFAULTS, **given}


def build_networks(cfg, device: str | torch.device, objective: str = "spade"):
    """The generator and discriminator of a config, checked against each other and the
    objective."""
    generator = MODELS.build(cfg.generator).to(device)
    discriminator = MODELS.build(cfg.discriminator).to(device)
    if objective == "oasis":
        if getattr(discriminator, "num_classes", None) != generator.num_classes:
            raise ConfigError(
                f"config {cfg.filename}: gan_cfg.objective='oasis' needs an OASISDiscriminator "
                f"with num_classes={generator.num_classes}, got {type(discriminator).__name__}"
            )
        return generator, discriminator
    if objective != "spade":
        raise ConfigError(
            f"config {cfg.filename}: gan_cfg.objective must be 'spade' or 'oasis', got "
            f"{objective!r}"
        )
    expected = 3 + label_channels(generator.num_classes, generator.instance_edges)
    if getattr(discriminator, "in_channels", None) != expected:
        raise ConfigError(
            f"config {cfg.filename}: discriminator.in_channels="
            f"{getattr(discriminator, 'in_channels', None)} but the generator's label maps "
            f"need 3 + {expected - 3} = {expected} (objective 'spade')"
        )
    return generator, discriminator


def _save(trainer: SPADETrainer, work_dir: str, iteration: int, keep: int, meta: dict) -> None:
    state = trainer.state_dict()
    if not all(
        torch.isfinite(p).all() for p in state["generator"].values() if p.is_floating_point()
    ):
        raise TrainingError(f"iteration {iteration}: the generator has non-finite weights")
    state.update(iteration=iteration, rng=torch.get_rng_state(), meta=meta)
    if trainer.device.type == "cuda":  # the noise vectors are drawn on the device
        state["cuda_rng"] = torch.cuda.get_rng_state(trainer.device)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = osp.join(work_dir, f"iter_{iteration}.pth")
    atomic_write(path, buffer.getvalue())
    atomic_write(osp.join(work_dir, "last_checkpoint"), path.encode())
    # Older checkpoints go only after the new one and the pointer are in place.
    numbered = sorted(
        int(n[5:-4]) for n in os.listdir(work_dir) if n.startswith("iter_") and n.endswith(".pth")
    )
    for old in numbered[:-keep] if keep > 0 else []:
        os.remove(osp.join(work_dir, f"iter_{old}.pth"))


def _resume(trainer: SPADETrainer, resume: str | None, work_dir: str, logger) -> int:
    if resume is None:
        return 0
    path = find_latest_checkpoint(work_dir) if resume == "auto" else resume
    if path is None:
        logger.info(f"vipseg: no checkpoint in {work_dir}; training from scratch")
        return 0
    state = safe_load(path, map_location=trainer.device)
    trainer.load_state_dict(state)
    torch.set_rng_state(state["rng"].cpu())
    if "cuda_rng" in state and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda_rng"].cpu(), trainer.device)
    logger.info(f"vipseg: resumed from {path} at iteration {state['iteration']}")
    return int(state["iteration"])


def make_trainer(cfg, settings: dict, device, amp: bool, ignore_index: int = 255):
    """The networks of a config on ``device`` in the trainer of ``gan_cfg.objective``."""
    generator, discriminator = build_networks(cfg, device, settings["objective"])
    common = dict(
        num_classes=generator.num_classes,
        ignore_index=ignore_index,
        lr_g=settings["lr_g"],
        lr_d=settings["lr_d"],
        betas=settings["betas"],
        amp=amp,
    )
    if settings["objective"] == "oasis":
        lambda_labelmix = settings["lambda_labelmix"]
        return OASISTrainer(generator, discriminator, lambda_labelmix=lambda_labelmix, **common)
    return SPADETrainer(generator, discriminator, lambda_fm=settings["lambda_fm"], **common)


def _build(cfg, settings: dict, amp: bool | None):
    """``(trainer, dataset, seed)``: everything a config can get wrong, before any file is
    written."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    use_amp = settings["amp"] and device.type == "cuda" if amp is None else amp
    seed = int((cfg.get("randomness") or {}).get("seed", 0))
    torch.manual_seed(seed)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    ignore_index = getattr(dataset, "ignore_index", 255)
    return make_trainer(cfg, settings, device, use_amp, ignore_index), dataset, seed


def _logger(work_dir: str):
    stamp = time.strftime("%Y%m%d_%H%M%S")
    log_dir = osp.join(work_dir, stamp)
    os.makedirs(osp.join(log_dir, "vis_data"), exist_ok=True)
    # A fresh name per run: mmengine keeps loggers by name, with the first one's log file.
    name = f"vipseg-spade-{time.time_ns()}"
    return MMLogger.get_instance(name, log_file=osp.join(log_dir, f"{stamp}.log")), log_dir


def train_spade(cfg, work_dir: str, resume: str | None = None, amp: bool | None = None) -> str:
    """Train the config's GAN in ``work_dir`` (``resume``: a checkpoint, ``'auto'`` for the
    newest complete one, or None); returns the last checkpoint's path. ``amp=None`` uses bf16
    where ``gan_cfg.amp`` is set and CUDA is available."""
    settings = gan_settings(cfg)
    trainer, dataset, seed = _build(cfg, settings, amp)
    generator, device = trainer.generator, trainer.device
    logger, log_dir = _logger(work_dir)
    start = _resume(trainer, resume, work_dir, logger)
    grid = SampleGrid(dataset, settings["num_samples"], generator, seed, device)
    meta = dict(classes=list(dataset.metainfo["classes"]), seed=seed)
    logger.info(
        f"vipseg: {settings['objective']} GAN on {len(dataset)} images, {device}, "
        f"bf16={trainer.amp}"
    )
    loader = build_loader(dataset, cfg.train_dataloader, seed, start)
    path, max_iters = None, int(settings["max_iters"])
    started, pending = time.time(), []
    for iteration, batch in zip(range(start + 1, max_iters + 1), loader):
        images, labels, instances = stack_batch(batch, device, generator.instance_edges)
        pending.append(trainer.step(images, trainer.encode(labels, instances)))
        if iteration % settings["log_interval"] == 0 or iteration == max_iters:
            _log(logger, log_dir, iteration, max_iters, pending, time.time() - started)
            pending, started = [], time.time()
        if iteration % settings["sample_interval"] == 0 or iteration == max_iters:
            grid.write(trainer, osp.join(work_dir, "samples", f"iter_{iteration}.png"))
        if iteration % settings["checkpoint_interval"] == 0 or iteration == max_iters:
            _save(trainer, work_dir, iteration, settings["max_keep_ckpts"], meta)
            path = osp.join(work_dir, f"iter_{iteration}.pth")
    return path or find_latest_checkpoint(work_dir)


def _log(logger, log_dir: str, iteration: int, max_iters: int, pending: list, seconds: float):
    """Mean of each loss term since the last log line: one read-back from the device."""
    names = list(pending[0])
    means = torch.stack([torch.stack([p[n] for p in pending]) for n in names]).float().mean(1)
    row = dict(zip(names, means.tolist()), time=seconds / len(pending), step=iteration)
    bad = [n for n in names if not math.isfinite(row[n])]
    if bad:
        raise TrainingError(f"iteration {iteration}: non-finite GAN losses {bad}")
    logger.info(
        f"Iter [{iteration}/{max_iters}] "
        + "  ".join(f"{n}: {row[n]:.4f}" for n in names)
        + f"  time: {row['time']:.3f}"
    )
    with open(osp.join(log_dir, "vis_data", "scalars.json"), "a") as f:
        f.write(json.dumps(row) + "\n")
