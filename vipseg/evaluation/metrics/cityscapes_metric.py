"""The Cityscapes benchmark's scores, computed on the device during validation."""

from collections.abc import Sequence

import torch
from mmengine.logging import MMLogger

from vipseg.registry import METRICS
from vipseg.utils.errors import ConfigError

from . import cityscapes_scores as cs
from .split_sum import SplitSumMetric


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
    """

    default_prefix = ""

    def __init__(self, collect_device: str = "cpu", prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)

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
