"""Time CityscapesMetric against cityscapesscripts' evaluator on the same full-size images.

    python tools/analysis_tools/benchmark_cityscapes_metric.py [--num 4] [--device cpu]

Renders ``--num`` toy-city scenes at 1024x2048 (ground truth with instances), makes
imperfect predictions, writes them as Cityscapes files, then reports milliseconds per image
for: vipseg's per-image statistics on tensors already in memory (what validation pays), and
cityscapesscripts' ``evaluatePair`` (which also decodes the three PNGs; the PNG decode time
alone is reported too, to compare like with like). Needs ``pip install cityscapesscripts``.
"""

import argparse
import importlib
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.datasets.cityscapes_labels import (  # noqa: E402
    label_id_to_train_id_lut,
    train_id_to_label_id_lut,
)
from vipseg.datasets.toycity import render_scene  # noqa: E402
from vipseg.evaluation.metrics import cityscapes_scores as cs  # noqa: E402
from vipseg.utils import keep_freed_memory  # noqa: E402


def make_files(folder: str, num: int) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(0)
    to_train, to_label = label_id_to_train_id_lut(), train_id_to_label_id_lut()
    files = []
    for i in range(num):
        _, lab, inst = render_scene(np.random.default_rng([0, i]), 1024, 2048)
        pred = np.roll(to_train[lab], 3, axis=1)
        noise = rng.random(pred.shape) < 0.1
        pred[noise] = rng.integers(0, 19, noise.sum())
        pred[pred == 255] = 0
        paths = [osp.join(folder, f"{i}_{kind}.png") for kind in ("labelIds", "instanceIds")]
        paths.append(osp.join(folder, f"{i}_pred.png"))
        cv2.imwrite(paths[0], lab)
        cv2.imwrite(paths[1], inst.astype(np.uint16))
        cv2.imwrite(paths[2], to_label[pred])
        files.append(tuple(paths))
    return files


def time_vipseg(files, device: str, repeat: int = 3) -> float:
    tensors = []
    for _, inst_path, pred_path in files:
        inst = torch.from_numpy(cv2.imread(inst_path, cv2.IMREAD_UNCHANGED).astype(np.int64))
        pred = torch.from_numpy(cv2.imread(pred_path, cv2.IMREAD_UNCHANGED).astype(np.int64))
        gt = torch.where(inst >= 1000, inst // 1000, inst)
        tensors.append((pred.to(device), gt.to(device), inst.to(device)))
    cs.image_stats(*tensors[0])  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        for pred, gt, inst in tensors:
            cs.image_stats(pred, gt, inst)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / (repeat * len(tensors)) * 1000


def time_cityscapesscripts(files) -> tuple[float, float]:
    if not hasattr(np, "in1d"):  # removed in numpy 2.4, still called by cityscapesscripts 2.3.0
        np.in1d = np.isin
    ev = importlib.import_module("cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
    from PIL import Image

    ev.args.quiet, ev.args.JSONOutput = True, False
    conf, inst_stats = ev.generateMatrix(ev.args), ev.generateInstanceStats(ev.args)
    start = time.perf_counter()
    for gt_path, _, pred_path in files:
        ev.evaluatePair(pred_path, gt_path, conf, inst_stats, {}, ev.args)
    total = (time.perf_counter() - start) / len(files) * 1000
    start = time.perf_counter()
    for paths in files:
        for path in paths:
            np.array(Image.open(path))
    decode = (time.perf_counter() - start) / len(files) * 1000
    return total, decode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=4, help="images (%(default)s)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    keep_freed_memory()  # as tools/test.py does
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(folder, args.num)
        ours = time_vipseg(files, args.device)
        theirs, decode = time_cityscapesscripts(files)
    print(f"1024x2048, {args.num} images, torch {torch.__version__}, {args.device}")
    print(f"vipseg CityscapesMetric statistics: {ours:.1f} ms/image")
    print(f"cityscapesscripts evaluatePair:     {theirs:.1f} ms/image")
    print(f"  of which PNG decoding (PIL):      {decode:.1f} ms/image")


if __name__ == "__main__":
    main()
