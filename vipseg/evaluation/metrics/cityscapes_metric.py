"""The Cityscapes benchmark's scores, computed on the device during validation."""

from collections.abc import Sequence

import numpy as np
import torch
from mmengine.logging import MMLogger

from vipseg.datasets.cityscapes_labels import TRAIN_LABELS
from vipseg.registry import METRICS
from vipseg.utils.errors import ConfigError

from . import cityscapes_scores as cs
from .iou_metric import save_confusion
from .split_sum import SplitSumMetric


def train_id_confusion(stats: np.ndarray) -> np.ndarray:
    """The 19 x 19 train-ID pixel confusion matrix (rows = ground truth) in summed stats.

    Predictions are train IDs mapped to label IDs, so the label-ID matrix's columns of the
    19 evaluated IDs hold every prediction; rows of IDs ignored in evaluation are dropped.
    """
    conf = stats[: cs.NUM_IDS**2].reshape(cs.NUM_IDS, cs.NUM_IDS)
    ids = [lb.id for lb in TRAIN_LABELS]  # in train-ID order
    return np.rint(conf[np.ix_(ids, ids)]).astype(np.int64)


@METRICS.register_module()
class CityscapesMetric(SplitSumMetric):
    """Class and category IoU and iIoU (nIoU) exactly as cityscapesscripts computes them.

    Predictions (train IDs) are mapped back to label IDs; the ground-truth label IDs come
    from the instance map (``id`` for stuff, ``id * 1000 + k`` for instances), so the test
    pipeline needs ``dict(type='LoadAnnotations', with_instance=True)``. Each image adds one
    vector (a 34x34 confusion matrix plus weighted instance counts) to a running sum on the
    prediction's device; see :mod:`vipseg.evaluation.metrics.cityscapes_scores`.

    Returned keys (fractions): ``mIoU``, ``iIoU`` (class averages), ``catIoU``, ``catiIoU``
    (category averages), ``aAcc`` (pixel accuracy over non-ignored pixels), and per class or
    category ``IoU.<name>``, ``iIoU.<name>``, ``catIoU.<name>``, ``catiIoU.<name>``. The log
    gets cityscapesscripts' table.

    Args:
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
        confusion_file: if set, each evaluation also writes the split's 19-class confusion
            matrix over train IDs to this ``.npz`` (parent folders are created; overwritten at
            every evaluation): ``confusion``, ``(19, 19)`` int64 pixel counts, rows = ground
            truth, columns = prediction, pixels whose ground truth is ignored in evaluation
            left out; ``classes``, the 19 class names.
            ``tools/analysis_tools/confusion_matrix.py --results FILE`` plots it.
    """

    default_prefix = ""

    def __init__(
        self,
        collect_device: str = "cpu",
        prefix: str | None = None,
        confusion_file: str | None = None,
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.confusion_file = confusion_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if "gt_instance_map" not in sample:
                raise ConfigError(
                    "CityscapesMetric needs the instance maps: use "
                    "dict(type='LoadAnnotations', with_instance=True) in the test pipeline"
                )
            pred = sample["pred_sem_seg"]["data"].squeeze(0)
            instances = sample["gt_instance_map"]["data"].squeeze(0).to(pred.device).long()
            gt = torch.where(instances >= 1000, instances // 1000, instances)
            pred_ids = cs.lookup_tables(str(pred.device))["to_label_id"][pred.long()]
            self.add(cs.image_stats(pred_ids, gt, instances))

    def compute_metrics(self, results: list) -> dict[str, float]:
        result = cs.scores(results[0])
        MMLogger.get_current_instance().info("Cityscapes scores:\n" + cs.format_table(result))
        if self.confusion_file:
            classes = [lb.name for lb in TRAIN_LABELS]
            save_confusion(self.confusion_file, train_id_confusion(results[0]), classes)
        out = dict(
            mIoU=result["averageScoreClasses"],
            iIoU=result["averageScoreInstClasses"],
            catIoU=result["averageScoreCategories"],
            catiIoU=result["averageScoreInstCategories"],
            aAcc=result["pixelAccuracy"],
        )
        for prefix, key in (
            ("IoU", "classScores"),
            ("iIoU", "classInstScores"),
            ("catIoU", "categoryScores"),
            ("catiIoU", "categoryInstScores"),
        ):
            out.update({f"{prefix}.{name}": v for name, v in result[key].items()})
        return out
