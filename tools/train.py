"""Train a segmentor from a config: python tools/train.py CONFIG [options]."""

import argparse
import importlib.util
import logging
import os
import os.path as osp
import shutil
import sys

# Run from a checkout without installing: the repository root holds the vipseg package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from vipseg.engine.checkpoint_io import find_latest_checkpoint  # noqa: E402
from vipseg.utils import (  # noqa: E402
    DictAction,
    check_config_types,
    exit_on_input_error,
    keep_freed_memory,
    load_config,
    register_all_modules,
    set_data_root,
    setup_cpu_distributed,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a vipseg segmentor")
    parser.add_argument("config", help="config file, e.g. configs/deeplabv3_r101_minicity.py")
    parser.add_argument(
        "--work-dir", help="where logs and checkpoints go (default: work_dirs/<config name>)"
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="CHECKPOINT",
        help="resume from CHECKPOINT, or with no value from the latest complete checkpoint in "
        "the work dir (from scratch if there is none)",
    )
    parser.add_argument(
        "--amp",
        action="store_true",
        help="bf16 autocast (SegAmpOptimWrapper), also on CPU; on by default with CUDA via the "
        "config's amp = True (default_runtime.py)",
    )
    parser.add_argument("--no-amp", action="store_true", help="fp32 even where amp is on")
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the training step (cfg.compile)"
    )
    parser.add_argument("--data-root", help="override the data root of every dataset")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config keys, e.g. train_cfg.max_iters=100",
    )
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm"], default="none")
    parser.add_argument("--local-rank", "--local_rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def build_cfg(args: argparse.Namespace):
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    stem = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join("work_dirs", stem)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    apply_speed_settings(cfg, args)
    if args.resume == "auto":
        # The newest complete checkpoint: the pointer's target, else the highest iter_N.pth.
        latest = find_latest_checkpoint(cfg.work_dir)
        cfg.resume, cfg.load_from = latest is not None, latest
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def apply_speed_settings(cfg, args: argparse.Namespace) -> None:
    """The fast defaults on CUDA (docs/benchmarks.md): bf16 autocast, channels-last, pinned
    loader memory; ``--amp`` / ``--no-amp`` / ``--compile`` override the config."""
    cuda = torch.cuda.is_available()
    amp = args.amp or (bool(cfg.get("amp", False)) and cuda)
    if amp and not args.no_amp:
        if cfg.optim_wrapper.get("type", "OptimWrapper") in ("OptimWrapper", "AmpOptimWrapper"):
            cfg.optim_wrapper.type = "SegAmpOptimWrapper"
            for key in ("dtype", "loss_scale"):  # AmpOptimWrapper's, not SegAmpOptimWrapper's
                cfg.optim_wrapper.pop(key, None)
    if cuda and cfg.get("channels_last", False):
        cfg.model.data_preprocessor.channels_last = True
    for name in ("train_dataloader", "val_dataloader", "test_dataloader"):
        if cuda and cfg.get(name) is not None:
            cfg[name].setdefault("pin_memory", True)
    if args.compile:
        cfg.compile = True
    if cfg.get("compile") and (reason := compile_unavailable("cuda" if cuda else "cpu")):
        print_log(
            f"vipseg: torch.compile unavailable ({reason}): training uncompiled",
            logger="current",
            level=logging.WARNING,
        )
        cfg.compile = None


def compile_unavailable(device: str) -> str | None:
    """Why ``torch.compile`` cannot work here, or None: inductor needs triton on CUDA and a
    C++ compiler on CPU."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if device == "cuda" and importlib.util.find_spec("triton") is None:
        return "triton is not installed"
    if device == "cpu" and not (shutil.which("c++") or shutil.which("g++")):
        return "no C++ compiler on PATH"
    return None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # faster CPU steps; see vipseg/utils/allocator.py
    register_all_modules()
    with exit_on_input_error():  # bad data or config: one line, exit 2
        cfg = build_cfg(args)
        check_config_types(cfg)
        setup_cpu_distributed(cfg)
        runner = Runner.from_cfg(cfg)
        runner.logger.info(f"vipseg: world size: {runner.world_size}, launcher: {cfg.launcher}")
        runner.train()


if __name__ == "__main__":
    main()
