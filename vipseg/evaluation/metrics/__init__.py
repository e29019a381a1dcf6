from .cityscapes_metric import CityscapesMetric
from .iou_metric import IoUMetric, confusion_matrix, metrics_from_confusion
from .split_sum import SplitSumMetric

__all__ = [
    "CityscapesMetric",
    "IoUMetric",
    "SplitSumMetric",
    "confusion_matrix",
    "metrics_from_confusion",
]
