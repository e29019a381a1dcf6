"""Dense CRF speed: python tools/analysis_tools/benchmark_crf.py [options].

Milliseconds per image of each DenseCRF backend at each size, on a synthetic image (blocky
colour regions with noise) and noisy class probabilities; the content does not change the
work done. The torch backend runs on ``--device``; pydensecrf always runs on the CPU.
"""

import argparse
import os.path as osp
import statistics
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.utils import (  # noqa: E402
    ConfigError,
    exit_on_input_error,
    keep_freed_memory,
    register_all_modules,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Milliseconds per image of DenseCRF backends")
    parser.add_argument("--sizes", nargs="+", default=["512x1024", "1024x2048"], help="HxW")
    parser.add_argument("--classes", type=int, default=19)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["torch", "pydensecrf"])
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device, help="torch backend (%(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls (%(default)s)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls (%(default)s)")
    return parser.parse_args(argv)


def parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"--sizes takes HxW, e.g. 512x1024, got {text!r}") from None
    if h < 1 or w < 1:
        raise ConfigError(f"--sizes must be positive, got {text!r}")
    return h, w


def synthetic_input(hw: tuple[int, int], classes: int, device) -> tuple:
    """Noisy probabilities (K, H, W) and a uint8 RGB image (3, H, W) of blocky regions."""
    g = torch.Generator().manual_seed(0)
    blocks = torch.randint(classes, (1, 1, max(hw[0] // 32, 1), max(hw[1] // 32, 1)), generator=g)
    labels = torch.nn.functional.interpolate(blocks.float(), size=hw, mode="nearest")[0, 0]
    colours = torch.randint(0, 256, (classes, 3), generator=g).float()
    noise = torch.randn(3, *hw, generator=g) * 8
    image = (colours[labels.long()].permute(2, 0, 1) + noise).clamp(0, 255).to(torch.uint8)
    logits = torch.randn(classes, *hw, generator=g) * 2
    logits.scatter_add_(0, labels.long()[None], torch.full((1, *hw), 2.0))
    return logits.softmax(0).to(device), image.to(device)


def time_backend(backend: str, hw, args) -> float:
    """Median milliseconds of one CRF call."""
    from vipseg.postprocess import DenseCRF

    device = args.device if backend == "torch" else "cpu"
    crf = DenseCRF(backend=backend, iterations=args.iterations)
    probs, image = synthetic_input(hw, args.classes, device)
    times = []
    for i in range(args.warmup + args.repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        crf(probs, image)
        if device.startswith("cuda"):
            torch.cuda.synchronize(device)
        if i >= args.warmup:
            times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def run(args: argparse.Namespace) -> list[dict]:
    sizes = [parse_size(s) for s in args.sizes]
    unknown = sorted(set(args.backends) - {"torch", "pydensecrf"})
    if unknown:
        raise ConfigError(f"--backends takes torch and pydensecrf, got {unknown}")
    if args.repeat < 1 or args.warmup < 0 or args.classes < 2 or args.iterations < 1:
        raise ConfigError("need --repeat >= 1, --warmup >= 0, --classes >= 2, --iterations >= 1")
    threads = torch.get_num_threads()
    print(
        f"torch {torch.__version__}, {threads} CPU threads, {args.classes} classes, "
        f"{args.iterations} iterations, median of {args.repeat}"
    )
    print("| backend | device | size | ms per image |")
    print("|---|---|---|---|")
    rows = []
    for backend in args.backends:
        for hw in sizes:
            device = args.device if backend == "torch" else "cpu"
            try:
                ms = time_backend(backend, hw, args)
            except ImportError as error:
                print(f"| {backend} | {device} | {hw[0]}x{hw[1]} | not run: {error} |")
                continue
            rows.append(dict(backend=backend, device=device, size=hw, ms=ms))
            print(f"| {backend} | {device} | {hw[0]}x{hw[1]} | {ms:.1f} |", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # as tools/test.py, which runs --crf: the same CPU allocator setting
    register_all_modules()
    with exit_on_input_error():
        run(args)


if __name__ == "__main__":
    main()
