"""Time training steps of a config: python tools/analysis_tools/benchmark.py CONFIG [options].

Batches come from the config's train dataset and pipeline and are collated up front, so the
figure is the model step alone (data preprocessor, forward, loss, backward, optimizer), the
part a faster data loader cannot hide. Compare it with the ``time`` column of a training log
to see how much the loader costs.
"""

import argparse
import os.path as osp
import sys
import time

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402

from vipseg.registry import DATASETS, MODELS  # noqa: E402
from vipseg.utils import (  # noqa: E402
    DictAction,
    keep_freed_memory,
    load_config,
    register_all_modules,
    set_data_root,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time the training step of a config")
    parser.add_argument("config")
    parser.add_argument("--iters", type=int, default=10, help="timed steps (%(default)s)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (%(default)s)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--data-root", help="override the data root of every dataset")
    parser.add_argument(
        "--default-malloc",
        action="store_true",
        help="keep glibc's default allocator thresholds (tools/train.py raises them)",
    )
    parser.add_argument(
        "--data-only",
        action="store_true",
        help="time the train pipeline instead: samples/s of one process (one loader worker)",
    )
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def time_pipeline(dataset, n: int, config: str) -> None:
    dataset[0]  # warm-up: file cache, lazy imports
    start = time.perf_counter()
    for i in range(n):
        dataset[(i + 1) % len(dataset)]
    per_sample = (time.perf_counter() - start) / n
    print(
        f"{osp.basename(config)}: train pipeline {per_sample * 1000:.1f} ms/sample, "
        f"{1 / per_sample:.1f} samples/s in one process"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.default_malloc:
        keep_freed_memory()
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    if args.data_only:
        time_pipeline(dataset, args.iters, args.config)
        return
    model = MODELS.build(cfg.model).to(args.device).train()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    batch_size = cfg.train_dataloader.batch_size
    batches = [
        pseudo_collate([dataset[(i * batch_size + j) % len(dataset)] for j in range(batch_size)])
        for i in range(min(4, args.iters + args.warmup))
    ]
    for i in range(args.warmup):
        model.train_step(batches[i % len(batches)], optim_wrapper)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(args.iters):
        model.train_step(batches[i % len(batches)], optim_wrapper)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    per_iter = (time.perf_counter() - start) / args.iters
    print(
        f"{osp.basename(args.config)}: batch {batch_size}, {per_iter:.3f} s/iter, "
        f"{batch_size / per_iter:.1f} img/s on {args.device} "
        f"({torch.get_num_threads()} threads, torch {torch.__version__})"
    )


if __name__ == "__main__":
    main()
