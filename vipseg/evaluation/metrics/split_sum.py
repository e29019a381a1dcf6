"""Base of metrics that sum one tensor of statistics per image over the whole split."""

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.evaluator import BaseMetric


class SplitSumMetric(BaseMetric):
    """Keeps a running sum of per-image statistics on the predictions' device.

    Subclasses call :meth:`add` once per image with a tensor of fixed shape (a confusion
    matrix, weighted counts, ...) and implement ``compute_metrics([total])`` on the summed
    numpy array. :meth:`evaluate` all-reduces the sum across processes, so the result is that
    of one process over the split: no per-image means, no gathering of predictions.

    mmengine's distributed samplers give rank ``r`` of ``W`` the global positions
    ``r, r + W, r + 2W, ...`` and pad the last round with copies; the newest image's
    statistics are therefore held apart until :meth:`evaluate` knows the split size and can
    drop a padding copy.
    """

    def __init__(self, collect_device: str = "cpu", prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self._reset()

    def _reset(self) -> None:
        self._total: torch.Tensor | None = None
        self._last: torch.Tensor | None = None
        self._count = 0

    def add(self, stats: torch.Tensor) -> None:
        """Add one image's statistics."""
        if self._last is not None:
            self._total = self._last if self._total is None else self._total + self._last
        self._last = stats
        self._count += 1

    def evaluate(self, size: int) -> dict[str, float]:
        if self._last is None:
            raise RuntimeError(f"{type(self).__name__} got no predictions to evaluate")
        rank, world_size = get_dist_info()
        total = self._total if self._total is not None else torch.zeros_like(self._last)
        if (self._count - 1) * world_size + rank < size:  # not a padding copy
            total = total + self._last
        if world_size > 1:
            total = total.clone()
            all_reduce(total, op="sum")  # in place
        self._reset()
        metrics = self.compute_metrics([total.cpu().numpy()])
        if self.prefix:
            metrics = {f"{self.prefix}/{k}": v for k, v in metrics.items()}
        return metrics
