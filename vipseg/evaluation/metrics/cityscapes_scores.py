"""Cityscapes pixel-level scores (IoU, iIoU, categories), as cityscapesscripts computes them.

Follows ``cityscapesscripts/evaluation/evalPixelLevelSemanticLabeling.py`` (2.3.0): one
label-ID confusion matrix over the split; a class's false positives count only pixels whose
ground truth is not ignored, its false negatives every other prediction on its pixels;
instance-level scores weight each instance's TP/FN pixels by the class's average instance
size over the instance's size. Per image, :func:`image_stats` packs everything into one
float64 vector (so a split's statistics are a plain sum); :func:`scores` turns the summed
vector into scores.
"""

import functools

import numpy as np
import torch

from vipseg.datasets.cityscapes_labels import LABELS, train_id_to_label_id_lut
from vipseg.utils.errors import DataError

NUM_IDS = 34  # label IDs 0..33
_TABLE = [lb for lb in LABELS if lb.id >= 0]
EVAL_IDS = [lb.id for lb in _TABLE if not lb.ignore_in_eval]
INSTANCE_CLASSES = [lb for lb in _TABLE if lb.has_instances and not lb.ignore_in_eval]
# Categories in the label table's order; only those whose labels all have instances get iIoU.
CATEGORIES = list(dict.fromkeys(lb.category for lb in _TABLE))
INSTANCE_CATEGORIES = [
    c for c in CATEGORIES if all(lb.has_instances for lb in _TABLE if lb.category == c)
]
# The official average instance sizes in pixels (cityscapesscripts' ``args.avgClassSize``).
AVG_CLASS_SIZE = {
    "bicycle": 4672.3249222261, "caravan": 36771.8241758242, "motorcycle": 6298.7200839748,
    "rider": 3930.4788056518, "bus": 35732.1511111111, "train": 67583.7075812274,
    "car": 12794.0202738185, "person": 3462.4756337644, "truck": 27855.1264367816,
    "trailer": 16926.9763313609,
}  # fmt: skip

_K, _C = len(INSTANCE_CLASSES), len(INSTANCE_CATEGORIES)
STATS_SIZE = NUM_IDS * NUM_IDS + 2 * _K + 2 * _C


@functools.cache
def lookup_tables(device: str) -> dict[str, torch.Tensor]:
    """Label-ID tables on ``device``, built once per device (not per image, not at import)."""
    cls_index = torch.full((NUM_IDS,), -1, dtype=torch.long)  # label ID -> instance class
    avg_size = torch.zeros(NUM_IDS, dtype=torch.float64)
    cat_index = torch.full((NUM_IDS,), -1, dtype=torch.long)  # label ID -> instance category
    in_cat = torch.zeros(_C, NUM_IDS, dtype=torch.bool)  # prediction in category c's IDs
    for k, label in enumerate(INSTANCE_CLASSES):
        cls_index[label.id] = k
        avg_size[label.id] = AVG_CLASS_SIZE[label.name]
    for c, category in enumerate(INSTANCE_CATEGORIES):
        for label in _TABLE:
            if label.category == category:
                cat_index[label.id] = c
                in_cat[c, label.id] = True
    ignored = torch.tensor([lb.ignore_in_eval for lb in _TABLE])
    to_label_id = torch.as_tensor(train_id_to_label_id_lut(), dtype=torch.long)
    tables = dict(cls_index=cls_index, avg_size=avg_size, cat_index=cat_index, in_cat=in_cat,
                  ignored=ignored, to_label_id=to_label_id)  # fmt: skip
    return {k: v.to(device) for k, v in tables.items()}


def image_stats(pred: torch.Tensor, gt: torch.Tensor, instances: torch.Tensor) -> torch.Tensor:
    """One image's statistics as a float64 vector of length :data:`STATS_SIZE`.

    Args:
        pred, gt: ``(H, W)`` label IDs (0..33) of the prediction and the ground truth.
        instances: ``(H, W)`` Cityscapes instance IDs (``id * 1000 + k`` for instances).
    """
    device = pred.device
    tables = lookup_tables(str(device))
    gt, pred, instances = gt.long(), pred.long(), instances.long()
    index = gt.flatten() * NUM_IDS + pred.flatten()
    if index.numel() and index.max() >= NUM_IDS**2:
        raise DataError(f"ground truth label IDs must be in 0..{NUM_IDS - 1}")
    # scatter_add, not bincount: bincount scans its input for min and max first.
    conf = torch.zeros(NUM_IDS**2, dtype=torch.long, device=device)
    conf.scatter_add_(0, index, torch.ones_like(index))
    # As the official code: instances are IDs > 1000; those of ignored classes are skipped.
    # Instance IDs are below 34000, so per-instance sums are indexed by the ID itself
    # (torch.unique with inverse indices is 40x slower on a CPU).
    where = torch.nonzero(instances.flatten() > 1000).squeeze(1)
    inst, pred_things = instances.flatten()[where], pred.flatten()[where]
    if inst.numel() and inst.max() >= NUM_IDS * 1000:
        raise DataError(f"instance ID {inst.max().item()} names no label ID")
    label_of = inst // 1000
    cat_of = tables["cat_index"][label_of].clamp(min=0)
    # Per pixel: 1 (size), correct class (TP), in the class's category (category TP).
    per_pixel = torch.stack(
        [
            torch.ones_like(inst, dtype=torch.float64),
            (pred_things == label_of).double(),
            tables["in_cat"][cat_of, pred_things].double(),
        ],
        dim=1,
    )
    sums = torch.zeros(NUM_IDS * 1000, 3, dtype=torch.float64, device=device)
    sums.index_add_(0, inst, per_pixel)
    sizes, tp, cat_tp = sums.unbind(1)
    ids = torch.nonzero(sizes).squeeze(1)
    labels, sizes, tp, cat_tp = ids // 1000, sizes[ids], tp[ids], cat_tp[ids]
    kept = ~tables["ignored"][labels]
    cls = tables["cls_index"][labels]
    if (kept & (cls < 0)).any():
        bad = ids[kept & (cls < 0)].tolist()
        raise DataError(f"instance IDs {bad} belong to classes without instances")
    weight = tables["avg_size"][labels] / sizes
    cat = tables["cat_index"][labels].clamp(min=0)
    out = torch.zeros(2 * _K + 2 * _C, dtype=torch.float64, device=device)
    k, c, w = cls[kept], cat[kept], weight[kept]
    out.index_add_(0, k, tp[kept] * w)
    out.index_add_(0, _K + k, (sizes[kept] - tp[kept]) * w)
    out.index_add_(0, 2 * _K + c, cat_tp[kept] * w)
    out.index_add_(0, 2 * _K + _C + c, (sizes[kept] - cat_tp[kept]) * w)
    return torch.cat([conf.double(), out])


def _iou(tp: float, fp: float, fn: float) -> float:
    denom = tp + fp + fn
    return float(tp / denom) if denom > 0 else float("nan")


def _mean(values: dict[str, float]) -> float:
    valid = [v for v in values.values() if not np.isnan(v)]
    return float(np.mean(valid)) if valid else float("nan")


def scores(stats: np.ndarray) -> dict[str, dict[str, float] | float]:
    """Scores from summed :func:`image_stats` vectors, named as cityscapesscripts names them."""
    conf = stats[: NUM_IDS**2].reshape(NUM_IDS, NUM_IDS)
    tp_w, fn_w, cat_tp_w, cat_fn_w = np.split(stats[NUM_IDS**2 :], np.cumsum([_K, _K, _C]))
    not_ignored = np.array([not lb.ignore_in_eval for lb in _TABLE])
    # Predictions on pixels whose ground truth is not ignored, per predicted ID.
    col_valid = conf[not_ignored].sum(axis=0)
    class_iou, class_iiou = {}, {}
    for label in _TABLE:
        if label.ignore_in_eval:
            continue
        i = label.id
        tp, fn, fp = conf[i, i], conf[i].sum() - conf[i, i], col_valid[i] - conf[i, i]
        class_iou[label.name] = _iou(tp, fp, fn)
        if label in INSTANCE_CLASSES:
            k = INSTANCE_CLASSES.index(label)
            class_iiou[label.name] = _iou(tp_w[k], fp, fn_w[k])
    cat_iou, cat_iiou = {}, {}
    for category in CATEGORIES:
        in_cat = np.array([lb.category == category for lb in _TABLE])
        ids = in_cat & not_ignored
        if not ids.any():  # 'void': every label ignored
            continue
        tp = conf[np.ix_(ids, ids)].sum()
        fn = conf[ids].sum() - tp
        fp = conf[np.ix_(not_ignored & ~in_cat, ids)].sum()
        cat_iou[category] = _iou(tp, fp, fn)
        if category in INSTANCE_CATEGORIES:
            c = INSTANCE_CATEGORIES.index(category)
            fp_inst = conf[np.ix_(not_ignored & ~in_cat, in_cat)].sum()
            cat_iiou[category] = _iou(cat_tp_w[c], fp_inst, cat_fn_w[c])
    valid_pixels = conf[not_ignored].sum()
    diag = np.diag(conf)[not_ignored].sum()
    return dict(
        classScores=class_iou,
        classInstScores=class_iiou,
        categoryScores=cat_iou,
        categoryInstScores=cat_iiou,
        averageScoreClasses=_mean(class_iou),
        averageScoreInstClasses=_mean(class_iiou),
        averageScoreCategories=_mean(cat_iou),
        averageScoreInstCategories=_mean(cat_iiou),
        pixelAccuracy=float(diag / valid_pixels) if valid_pixels else float("nan"),
    )


def format_table(result: dict) -> str:
    """The text cityscapesscripts prints: ``classes IoU nIoU``, averages, then categories."""
    lines = []
    for kind, iou, iiou, avg, avg_inst in (
        ("classes", "classScores", "classInstScores", "averageScoreClasses",
         "averageScoreInstClasses"),
        ("categories", "categoryScores", "categoryInstScores", "averageScoreCategories",
         "averageScoreInstCategories"),
    ):  # fmt: skip
        lines += [f"{kind:<17}IoU      nIoU", "-" * 32]
        for name, value in result[iou].items():
            inst = result[iiou].get(name, float("nan"))
            lines.append(f"{name:<14}: {value:>5.3f}    {inst:>5.3f}")
        lines += ["-" * 32, f"Score Average : {result[avg]:5.3f}    {result[avg_inst]:5.3f}"]
        lines += ["-" * 32, ""]
    lines.append(f"pixel accuracy: {result['pixelAccuracy']:5.3f}")
    return "\n".join(lines)
