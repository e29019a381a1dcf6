"""Per-class IoU and accuracy from one confusion matrix over the whole split."""

import os
import os.path as osp
from collections.abc import Sequence

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.logging import MMLogger
from prettytable import PrettyTable

from vipseg.registry import METRICS

from .split_sum import SplitSumMetric


def confusion_matrix(
    pred: torch.Tensor, label: torch.Tensor, num_classes: int, ignore_index: int = 255
) -> torch.Tensor:
    """``(K, K)`` int64 matrix, rows = ground truth, columns = prediction; ignore skipped.

    Stays on the tensors' device: one ``bincount`` per image, no host round trip.
    """
    valid = label != ignore_index
    index = label[valid].long() * num_classes + pred[valid].long()
    return torch.bincount(index, minlength=num_classes**2).reshape(num_classes, num_classes)


def metrics_from_confusion(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class IoU and accuracy (NaN where the class never occurs) and overall accuracy."""
    matrix = matrix.astype(np.float64)
    tp = np.diag(matrix)
    gt, pred = matrix.sum(axis=1), matrix.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (gt + pred - tp)
        acc = tp / gt
        a_acc = tp.sum() / matrix.sum()
    return dict(IoU=iou, Acc=acc, aAcc=a_acc)


def save_confusion(path: str, matrix: np.ndarray, classes: Sequence[str]) -> None:
    """Write ``confusion`` (K x K int64, rows = ground truth) and ``classes`` to an ``.npz``.

    Only the main process writes: every rank holds the same all-reduced matrix, and several
    writers of one file could leave it truncated.
    """
    if not is_main_process():
        return
    if len(classes) != len(matrix):
        raise ValueError(f"{len(classes)} class names for a {len(matrix)}-class matrix")
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    # The sums are float64 in CityscapesMetric; they hold whole pixel counts.
    confusion = np.rint(matrix).astype(np.int64)
    np.savez(path, confusion=confusion, classes=np.array(list(classes), dtype=str))
    MMLogger.get_current_instance().info(f"confusion matrix written to {path}")


@METRICS.register_module()
class IoUMetric(SplitSumMetric):
    """mIoU, mAcc and aAcc of a split, with a per-class table in the log.

    ``process`` adds each image's confusion matrix to a running one on the prediction's
    device (:class:`SplitSumMetric`), so the split-level result is exact under DDP. A class
    absent from both ground truth and prediction has IoU NaN and is left out of the mean.
    Returned values are fractions in [0, 1]: ``mIoU``, ``mAcc``, ``aAcc`` and ``IoU.<class>``
    per class.

    Args:
        ignore_index: label value left out.
        class_names: defaults to the dataset's ``classes`` metainfo.
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
        confusion_file: if set, each evaluation also writes the split's confusion matrix to
            this ``.npz`` (parent folders are created; overwritten at every evaluation):
            ``confusion``, ``(K, K)`` int64 pixel counts, rows = ground truth, columns =
            prediction, ignored pixels left out; ``classes``, the K class names.
            ``tools/analysis_tools/confusion_matrix.py --results FILE`` plots it.
    """

    default_prefix = ""

    def __init__(
        self,
        ignore_index: int = 255,
        class_names: Sequence[str] | None = None,
        collect_device: str = "cpu",
        prefix: str | None = None,
        confusion_file: str | None = None,
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ignore_index = ignore_index
        self.class_names = tuple(class_names) if class_names is not None else None
        self.confusion_file = confusion_file

    @property
    def classes(self) -> tuple[str, ...]:
        if self.class_names is not None:
            return self.class_names
        if not self.dataset_meta or "classes" not in self.dataset_meta:
            raise ValueError("IoUMetric needs class_names or a dataset with 'classes' metainfo")
        return tuple(self.dataset_meta["classes"])

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.classes)
        for sample in data_samples:
            pred = sample["pred_sem_seg"]["data"].squeeze(0)
            label = sample["gt_sem_seg"]["data"].squeeze(0).to(pred.device)
            self.add(confusion_matrix(pred, label, num_classes, self.ignore_index))

    def compute_metrics(self, results: list) -> dict[str, float]:
        stats = metrics_from_confusion(results[0])
        self._log_table(stats)
        if self.confusion_file:
            save_confusion(self.confusion_file, results[0], self.classes)
        out = dict(
            aAcc=float(stats["aAcc"]),
            mIoU=float(np.nanmean(stats["IoU"])),
            mAcc=float(np.nanmean(stats["Acc"])),
        )
        out.update({f"IoU.{name}": float(v) for name, v in zip(self.classes, stats["IoU"])})
        return out

    def _log_table(self, stats: dict[str, np.ndarray]) -> None:
        table = PrettyTable(["Class", "IoU", "Acc"])
        for name, iou, acc in zip(self.classes, stats["IoU"], stats["Acc"]):
            table.add_row([name, f"{iou:.4f}", f"{acc:.4f}"])
        table.add_row(
            ["mean", f"{np.nanmean(stats['IoU']):.4f}", f"{np.nanmean(stats['Acc']):.4f}"]
        )
        MMLogger.get_current_instance().info("per-class results:\n" + table.get_string())
