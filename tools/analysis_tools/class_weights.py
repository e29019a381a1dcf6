"""Class weights from a split's label statistics:
python tools/analysis_tools/class_weights.py CONFIG [options].

Prints ``class_weight=[...]`` and a table, or with ``--out`` writes a config fragment to
include with ``_base_`` and use as ``{{_base_.class_weight}}``. The methods, the handling of
absent classes and the normalisation: vipseg/datasets/class_weights.py.
"""

import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from prettytable import PrettyTable  # noqa: E402

from vipseg.datasets.class_weights import (  # noqa: E402
    METHODS,
    absent_classes,
    class_weights,
    pixel_shares,
    weights_file_text,
)
from vipseg.datasets.label_stats import build_split_dataset, class_pixel_counts  # noqa: E402
from vipseg.utils import (  # noqa: E402
    DictAction,
    MissingDataError,
    exit_on_input_error,
    load_config,
    register_all_modules,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Class weights from label pixel statistics")
    parser.add_argument("config")
    parser.add_argument("--split", default="train", help="train, val or test (%(default)s)")
    parser.add_argument("--method", choices=METHODS, default="median_freq")
    parser.add_argument(
        "--power", type=float, default=1.0, help="damping exponent, 0.5 = sqrt (%(default)s)"
    )
    parser.add_argument(
        "--normalize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="rescale so that sum_c share_c * w_c = 1 (default: on)",
    )
    parser.add_argument("--out", help="write a config fragment (.py) instead of printing")
    parser.add_argument("--data-root", help="override the data root of the split's dataset")
    parser.add_argument("--workers", type=int, default=0, help="label decoding processes")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def header(args: argparse.Namespace) -> str:
    """The comment of the written file: how to remake the weights (no date: reproducible)."""
    norm = "normalized: sum_c share_c * w_c = 1" if args.normalize else "not normalized"
    return (
        f"Class weights of {args.config}, {args.split} split.\n"
        f"Method {args.method}, power {args.power:g}, {norm}.\n"
        "Written by tools/analysis_tools/class_weights.py. Use in a config:\n"
        "  _base_ = [..., 'this file']  (no other base may define class_weight)\n"
        "  loss_decode=dict(class_weight={{_base_.class_weight}})"
    )


def print_table(names, shares, weights) -> None:
    table = PrettyTable(["class", "pixel share %", "weight"])
    table.align["class"] = "l"
    for name, share, weight in zip(names, shares, weights):
        table.add_row([name, f"{100 * share:.3f}", f"{weight:.4f}"])
    print(table)


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args.config, args.cfg_options)
    dataset = build_split_dataset(cfg, args.split, args.data_root)
    names = tuple(dataset.metainfo["classes"])
    start = time.perf_counter()
    counts = class_pixel_counts(dataset, args.workers)
    weights = class_weights(counts, args.method, args.power, args.normalize)
    seconds = time.perf_counter() - start
    absent = absent_classes(counts, names)
    if absent:
        print(f"note: absent from the {args.split} split, given the largest weight: {absent}")
    if args.out:
        out_dir = osp.dirname(osp.abspath(args.out))
        if not osp.isdir(out_dir):
            raise MissingDataError(f"--out folder {out_dir} does not exist")
        with open(args.out, "w") as f:
            f.write(weights_file_text(weights.tolist(), names, header(args)))
        print(f"wrote {len(names)} class weights to {args.out}")
    else:
        print("class_weight=[" + ", ".join(f"{w:.4f}" for w in weights) + "]")
        print_table(names, pixel_shares(counts), weights)
    print(f"{len(counts)} images of the {args.split} split counted in {seconds:.1f} s")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    register_all_modules()
    with exit_on_input_error():  # bad data or config: one line, exit 2
        run(args)


if __name__ == "__main__":
    main()
