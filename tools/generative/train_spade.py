"""Train a SPADE label-to-image generator: python tools/generative/train_spade.py CONFIG.

The config names the dataset split (its ``train_dataloader``), the networks and ``gan_cfg``
(configs/generative/, docs/generative.md). Checkpoints, sample grids and the scalar log go to
the work dir; ``--resume`` continues from the newest complete checkpoint there, seeing the same
batches an uninterrupted run would.
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.generative.train_loop import train_spade  # noqa: E402
from vipseg.utils import (  # noqa: E402
    DictAction,
    check_config_types,
    exit_on_input_error,
    load_config,
    register_all_modules,
    set_data_root,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a SPADE generator on a dataset split")
    parser.add_argument("config", help="e.g. configs/generative/spade_camvid.py")
    parser.add_argument("--work-dir", help="default: work_dirs/<config name>")
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="CHECKPOINT",
        help="resume from CHECKPOINT, or with no value from the newest complete checkpoint in "
        "the work dir (from scratch if there is none)",
    )
    amp = parser.add_mutually_exclusive_group()
    amp.add_argument("--amp", action="store_true", help="bf16 autocast, also on CPU")
    amp.add_argument("--no-amp", action="store_true", help="fp32 even on CUDA")
    parser.add_argument("--data-root", help="override the data root of the dataset")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config keys, e.g. gan_cfg.max_iters=100",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    register_all_modules()
    with exit_on_input_error():
        cfg = load_config(args.config, args.cfg_options)
        if args.data_root:
            set_data_root(cfg, args.data_root)
        check_config_types(cfg)
        stem = osp.splitext(osp.basename(args.config))[0]
        work_dir = args.work_dir or cfg.get("work_dir") or osp.join("work_dirs", stem)
        amp = True if args.amp else False if args.no_amp else None
        path = train_spade(cfg, work_dir, resume=args.resume, amp=amp)
        print(f"vipseg: generator checkpoint {path}")


if __name__ == "__main__":
    main()
