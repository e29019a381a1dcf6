"""Grid-search the dense CRF on a labelled split: python tools/analysis_tools/tune_crf.py
CONFIG CHECKPOINT [--w1 3 4 5] [--theta-alpha 60 121] [--theta-beta 3 5] [options].

The model runs once per image; its class probabilities are cached (float16 .npy files) and
every setting of the grid refines them with DenseCRF. Prints the mIoU of each setting beside
the model's own (no CRF), sorted, and the best setting as a config block for
``tools/test.py --crf``.
"""

import argparse
import itertools
import os.path as osp
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.utils import (  # noqa: E402
    ConfigError,
    DictAction,
    exit_on_input_error,
    keep_freed_memory,
    load_config,
    register_all_modules,
    set_data_root,
    track,
)

GRID = ("w1", "theta_alpha", "theta_beta", "w2", "theta_gamma")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Grid search of DenseCRF parameters")
    parser.add_argument("config")
    parser.add_argument("checkpoint")
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    parser.add_argument("--num-images", type=int, help="only the first N images of the split")
    parser.add_argument("--backend", default="torch", choices=["torch", "pydensecrf"])
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--reference-size", type=int, default=500)
    parser.add_argument("--w1", type=float, nargs="+", default=[3.0, 4.0, 5.0])
    parser.add_argument("--theta-alpha", type=float, nargs="+", default=[60.0, 121.0])
    parser.add_argument("--theta-beta", type=float, nargs="+", default=[3.0, 5.0])
    parser.add_argument("--w2", type=float, nargs="+", default=[3.0])
    parser.add_argument("--theta-gamma", type=float, nargs="+", default=[3.0])
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default_device, help="%(default)s")
    parser.add_argument("--data-root", help="override the data root of the split's dataset")
    parser.add_argument("--cache-dir", help="keep the cached probabilities here")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


@torch.no_grad()
def cache_predictions(model, cfg, args, cache_dir: str) -> list[dict]:
    """Run the model over the split once; save probabilities, labels and image paths."""
    from mmengine.dataset import pseudo_collate

    from vipseg.registry import DATASETS

    dataset = DATASETS.build(cfg[f"{args.split}_dataloader"].dataset)
    count = len(dataset) if args.num_images is None else min(args.num_images, len(dataset))
    items = []
    for i in track(range(count), f"model on {args.split}"):
        sample = model.test_step(pseudo_collate([dataset[i]]))[0]
        if "gt_sem_seg" not in sample:
            raise ConfigError(f"the {args.split} split has no labels to tune on")
        probs = sample.seg_logits.data.float().softmax(0).cpu().numpy().astype(np.float16)
        path = osp.join(cache_dir, f"{i:05d}.npy")
        np.save(path, probs)
        label = sample.gt_sem_seg.data[0].cpu()
        items.append(dict(probs=path, label=label, img_path=sample.img_path))
    return items


def evaluate(items: list[dict], num_classes: int, device, crf=None) -> float:
    """mIoU over the cached predictions, refined by ``crf`` if given."""
    from vipseg.evaluation.metrics.iou_metric import confusion_matrix, metrics_from_confusion
    from vipseg.models.segmentors.seg_crf import load_rgb

    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for item in items:
        probs = torch.from_numpy(np.load(item["probs"])).float().to(device)
        if crf is not None:
            probs = crf(probs, load_rgb(item["img_path"], probs.shape[-2:], device))
        pred = probs.argmax(0).cpu()
        matrix += confusion_matrix(pred, item["label"], num_classes).cpu()
    return float(np.nanmean(metrics_from_confusion(matrix.numpy())["IoU"]))


def grid(args: argparse.Namespace) -> list[dict]:
    values = [getattr(args, name) for name in GRID]
    return [dict(zip(GRID, combo, strict=True)) for combo in itertools.product(*values)]


def snippet(params: dict, args: argparse.Namespace) -> str:
    fields = ", ".join(f"{k}={v:g}" for k, v in params.items())
    return (
        f'crf = dict(type="DenseCRF", backend="{args.backend}", iterations={args.iterations}, '
        f"{fields}, reference_size={args.reference_size})"
    )


def run(args: argparse.Namespace) -> list[dict]:
    from vipseg.apis import init_model
    from vipseg.postprocess import DenseCRF

    cfg = load_config(args.config, args.cfg_options)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.num_images is not None and args.num_images < 1:
        raise ConfigError(f"--num-images must be >= 1, got {args.num_images}")
    model = init_model(cfg, args.checkpoint, device=args.device)
    num_classes = len(model.dataset_meta["classes"])
    with tempfile.TemporaryDirectory() as tmp:
        items = cache_predictions(model, cfg, args, args.cache_dir or tmp)
        del model
        results = [dict(setting="no CRF", mIoU=evaluate(items, num_classes, args.device))]
        print(f"{len(items)} images, no CRF: mIoU {results[0]['mIoU']:.4f}", flush=True)
        for params in track(grid(args), "CRF grid"):
            crf = DenseCRF(
                backend=args.backend,
                iterations=args.iterations,
                reference_size=args.reference_size,
                **params,
            )
            start = time.perf_counter()
            miou = evaluate(items, num_classes, args.device, crf)
            seconds = (time.perf_counter() - start) / len(items)
            results.append(dict(setting=params, mIoU=miou, seconds=seconds))
            print(f"{params}: mIoU {miou:.4f} ({1000 * seconds:.0f} ms/image)", flush=True)
    print_table(results, args)
    return results


def print_table(results: list[dict], args: argparse.Namespace) -> None:
    print("\n| " + " | ".join(GRID) + " | mIoU |")
    print("|" + "---|" * (len(GRID) + 1))
    for row in sorted(results, key=lambda r: -r["mIoU"]):
        params = row["setting"]
        cells = ["-"] * len(GRID) if params == "no CRF" else [f"{params[k]:g}" for k in GRID]
        print("| " + " | ".join(cells) + f" | {row['mIoU']:.4f} |")
    best = max(results[1:], key=lambda r: r["mIoU"])
    gain = best["mIoU"] - results[0]["mIoU"]
    print(f"\nbest ({gain:+.4f} mIoU over no CRF):\n{snippet(best['setting'], args)}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # as tools/test.py: CRF buffers stay in the heap between images
    register_all_modules()
    with exit_on_input_error():
        run(args)


if __name__ == "__main__":
    main()
