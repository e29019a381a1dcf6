"""Generate the synthetic toy city in the Cityscapes layout (no download needed).

python tools/misc/make_toycity.py --out data/toycity [--num-train 48 --num-val 16
    --num-test 0 --height 256 --width 512 --seed 0 --overwrite]
"""

import argparse
import os.path as osp
import sys
import time

# Run from a checkout without installing: the repository root holds the vipseg package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.datasets.toycity import make_toycity  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Generate the synthetic toy city dataset")
    parser.add_argument("--out", default="data/toycity", help="output root (default: %(default)s)")
    parser.add_argument("--num-train", type=int, default=48, help="train images (%(default)s)")
    parser.add_argument("--num-val", type=int, default=16, help="val images (%(default)s)")
    parser.add_argument("--num-test", type=int, default=0, help="test images (%(default)s)")
    parser.add_argument("--height", type=int, default=256, help="image height (%(default)s)")
    parser.add_argument("--width", type=int, default=512, help="image width (%(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (%(default)s)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing leftImg8bit/ and gtFine/"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        result = make_toycity(
            args.out,
            num_train=args.num_train,
            num_val=args.num_val,
            num_test=args.num_test,
            height=args.height,
            width=args.width,
            seed=args.seed,
            overwrite=args.overwrite,
        )
    except (FileExistsError, ValueError) as error:  # user errors: one line, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{split} {n}" for split, n in result["counts"].items())
    print(f"wrote toy city to {osp.abspath(result['out_dir'])} ({counts} images, "
          f"{args.height}x{args.width}) in {time.perf_counter() - start:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
