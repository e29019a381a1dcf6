"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [options]."""

import argparse
import os
import os.path as osp
import sys

# Run from a checkout without installing: the repository root holds the vipseg package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from vipseg.utils import (  # noqa: E402
    ConfigError,
    DictAction,
    MissingDataError,
    check_config_types,
    exit_on_input_error,
    keep_freed_memory,
    load_config,
    register_all_modules,
    replace_annotations,
    set_data_root,
    setup_cpu_distributed,
)

# tta_model / tta_pipeline for --tta where the config does not define its own.
DEFAULT_TTA = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), "configs/_base_/tta_cityscapes.py"
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
        "--tta",
        action="store_true",
        help="test-time augmentation with the config's tta_model and tta_pipeline; those it "
        "lacks come from configs/_base_/tta_cityscapes.py (scales 0.5-2.2 x flip)",
    )
    parser.add_argument(
        "--out-dir",
        help="write a submission: one <image name>.png of Cityscapes label IDs per image "
        "(relative paths are under the work dir)",
    )
    parser.add_argument(
        "--format-only",
        action="store_true",
        help="with --out-dir: predict without labels or evaluation (e.g. the test split)",
    )
    parser.add_argument(
        "--crf",
        action="store_true",
        help="refine each prediction with a dense CRF after (TTA) inference, before metrics "
        "and export: the config's crf block, else DenseCRF() (docs/crf.md); change it with "
        "--cfg-options crf.backend=pydensecrf crf.w1=5",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (on by default, with ETA)"
    )
    parser.add_argument("--zip", action="store_true", help="with --out-dir: also pack a zip")
    parser.add_argument("--color", action="store_true", help="with --out-dir: color PNGs too")
    parser.add_argument("--overlay", action="store_true", help="with --out-dir: overlays too")
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
    cfg = load_config(args.config)
    if args.tta:
        # Before the overrides, so --cfg-options can change the default TTA settings too.
        default = Config.fromfile(DEFAULT_TTA)
        if "tta_pipeline" not in cfg:
            test_steps = cfg.test_dataloader.dataset.pipeline
            load = [s for s in test_steps if s.get("type") == "LoadAnnotations"]
            cfg.tta_pipeline = replace_annotations(default.tta_pipeline, load[0] if load else None)
        cfg.setdefault("tta_model", default.tta_model)
    cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    stem = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join("work_dirs", stem)
    cfg.load_from = args.checkpoint
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.show_dir:
        cfg.default_hooks.visualization = dict(type="SegVisualizationHook", show_dir=args.show_dir)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.model = dict(**cfg.tta_model, module=cfg.model)
    if args.crf:
        crf = dict(cfg.get("crf") or {})
        crf.setdefault("type", "DenseCRF")
        cfg.model = dict(type="SegCRFModel", module=cfg.model, crf=crf)
    add_export(cfg, args)
    if not args.no_progress:
        cfg.custom_hooks = [*cfg.get("custom_hooks", []), dict(type="ProgressBarHook")]
        if sys.stderr.isatty():  # the live bar replaces the per-iteration log lines
            cfg.default_hooks.logger.interval = 10**9
    return cfg


def add_export(cfg, args: argparse.Namespace) -> None:
    """--out-dir and its options: the submission hook, and for --format-only no labels."""
    if not args.out_dir:
        if args.format_only or args.zip or args.color or args.overlay:
            raise ConfigError("--format-only, --zip, --color and --overlay need --out-dir")
        return
    hook = dict(type="CityscapesSubmissionHook", out_dir=args.out_dir, color=args.color)
    hook.update(overlay=args.overlay, zip_name="submission.zip" if args.zip else None)
    cfg.custom_hooks = [*cfg.get("custom_hooks", []), hook]
    if args.format_only:
        dataset = cfg.test_dataloader.dataset
        dataset.data_prefix.pop("seg_map_path", None)
        dataset.pipeline = replace_annotations(dataset.pipeline, None)
        cfg.test_evaluator = []


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # faster CPU steps; see vipseg/utils/allocator.py
    register_all_modules()
    with exit_on_input_error():  # bad data or config: one line, exit 2
        cfg = build_cfg(args)
        check_config_types(cfg)
        setup_cpu_distributed(cfg)
        Runner.from_cfg(cfg).test()


if __name__ == "__main__":
    main()
