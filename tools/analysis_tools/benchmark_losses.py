"""Time forward + backward of every registered loss on random logits of a given shape.

    python tools/analysis_tools/benchmark_losses.py --shape 8 11 360 480 [--device cuda]

The figure is the loss alone (no model), so it shows what a loss adds to a training step;
compare it with tools/analysis_tools/benchmark.py's step time of the same batch.
"""

import argparse
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.models.losses import BaseSegLoss, registered_losses  # noqa: E402
from vipseg.registry import MODELS  # noqa: E402
from vipseg.utils import register_all_modules  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time every registered loss")
    parser.add_argument(
        "--shape",
        type=int,
        nargs=4,
        default=[8, 11, 360, 480],
        metavar=("N", "C", "H", "W"),
        help="logits shape (%(default)s)",
    )
    parser.add_argument(
        "--ignore-rows",
        type=int,
        default=20,
        help="top rows of every label set to ignore_index (%(default)s)",
    )
    parser.add_argument("--iters", type=int, default=3, help="timed calls (%(default)s)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--losses", nargs="+", help="names to time (default: all registered)")
    return parser.parse_args(argv)


def time_loss(loss: BaseSegLoss, pred: torch.Tensor, label: torch.Tensor, iters: int) -> float:
    """Seconds per forward + backward, after one untimed call."""
    sync = torch.cuda.synchronize if pred.is_cuda else (lambda: None)
    for i in range(iters + 1):
        if i == 1:
            sync()
            start = time.perf_counter()
        pred.grad = None
        loss(pred, label).backward()
    sync()
    return (time.perf_counter() - start) / iters


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    register_all_modules()
    n, c, h, w = args.shape
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(n, c, h, w, generator=gen).to(args.device).requires_grad_()
    label = torch.randint(0, c, (n, h, w), generator=gen)
    label[:, : args.ignore_rows] = 255
    label = label.to(args.device)
    for name in args.losses or registered_losses():
        loss = MODELS.build(dict(type=name)).to(args.device)
        seconds = time_loss(loss, pred, label, args.iters)
        print(f"{name:22s} {seconds * 1000:9.1f} ms  (forward + backward, {tuple(args.shape)})")
    print(f"device {args.device}, {torch.get_num_threads()} threads, torch {torch.__version__}")


if __name__ == "__main__":
    main()
