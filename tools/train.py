"""Train a segmentor from a config: python tools/train.py CONFIG [options]."""

import argparse
import os
import os.path as osp
import sys

# Run from a checkout without installing: the repository root holds the vipseg package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.runner import Runner  # noqa: E402

from vipseg.engine.checkpoint_io import find_latest_checkpoint  # noqa: E402
from vipseg.utils import (  # noqa: E402
    DictAction,
    apply_speed_settings,
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
    apply_speed_settings(cfg, amp=args.amp, no_amp=args.no_amp, compile=args.compile)
    if args.resume == "auto":
        # The newest complete checkpoint: the pointer's target, else the highest iter_N.pth.
        latest = find_latest_checkpoint(cfg.work_dir)
        cfg.resume, cfg.load_from = latest is not None, latest
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


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
