"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [options]."""

import argparse
import os
import os.path as osp
import sys

# Run from a checkout without installing: the repository root holds the vipseg package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.runner import Runner  # noqa: E402

from vipseg.utils import (  # noqa: E402
    DictAction,
    InputError,
    MissingDataError,
    check_config_types,
    keep_freed_memory,
    last_line,
    load_config,
    register_all_modules,
    set_data_root,
    setup_cpu_distributed,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Test a vipseg segmentor")
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--work-dir", help="where the results log goes")
    parser.add_argument(
        "--show-dir",
        help="write color predictions to this folder (relative paths are under the work dir)",
    )
    parser.add_argument("--data-root", help="override the data root of every dataset")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config keys, e.g. test_dataloader.batch_size=2",
    )
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm"], default="none")
    parser.add_argument("--local-rank", "--local_rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def build_cfg(args: argparse.Namespace):
    if not osp.isfile(args.checkpoint):
        raise MissingDataError(f"checkpoint {args.checkpoint} does not exist")
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    stem = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join("work_dirs", stem)
    cfg.load_from = args.checkpoint
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.show_dir:
        cfg.default_hooks.visualization = dict(type="SegVisualizationHook", show_dir=args.show_dir)
    return cfg


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # faster CPU steps; see vipseg/utils/allocator.py
    register_all_modules()
    try:
        cfg = build_cfg(args)
        check_config_types(cfg)
        setup_cpu_distributed(cfg)
        Runner.from_cfg(cfg).test()
    except InputError as error:  # bad data or config: one line, no traceback
        print(f"vipseg: error: {last_line(error)}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
