"""Pixel-wise cross entropy with class weights and an ignore index."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from vipseg.registry import MODELS

from .base import BaseSegLoss, as_float


def cross_entropy(
    pred: torch.Tensor,
    label: torch.Tensor,
    class_weight: torch.Tensor | None = None,
    ignore_index: int = 255,
    avg_non_ignore: bool = False,
) -> torch.Tensor:
    """Mean cross entropy of logits ``pred`` against integer ``label``.

    Computed in float32 (float64 stays float64) whatever the input dtype, because log-softmax
    of bf16 logits loses the small probabilities the loss is made of.

    Shape:
        pred: ``(N, C, H, W)`` logits. label: ``(N, H, W)`` int64 in ``[0, C)`` or ignore_index.
        Returns a scalar.

    With ``avg_non_ignore=False`` (MMSegmentation's default) the sum is divided by the number
    of all pixels, ignored ones included; with ``True`` by the (class-weighted) number of
    non-ignored pixels, which is ``F.cross_entropy(..., reduction='mean')``.
    """
    pred = as_float(pred)
    if class_weight is not None:
        class_weight = class_weight.to(pred.dtype)
    loss = F.cross_entropy(
        pred, label, weight=class_weight, reduction="none", ignore_index=ignore_index
    )
    if not avg_non_ignore:
        return loss.mean()
    valid = label != ignore_index
    if class_weight is None:
        denom = valid.sum()
    else:
        # masked, not selected (``[valid]``): selecting would make the GPU wait for the count
        denom = (class_weight[label.clamp(0, class_weight.numel() - 1)] * valid).sum()
    # An all-ignore batch gives 0 loss (and zero gradient) rather than NaN.
    return loss.sum() / denom.clamp(min=torch.finfo(loss.dtype).eps)


@MODELS.register_module()
class CrossEntropyLoss(BaseSegLoss):
    """Cross entropy loss module for decode heads.

    Args:
        class_weight: per-class weights (length C), e.g. from
            ``tools/analysis_tools/class_weights.py``; None for uniform.
        loss_weight: multiplier of this term in the total loss.
        ignore_index: label value excluded from the loss.
        avg_non_ignore: average over non-ignored pixels only (see :func:`cross_entropy`).
        loss_name: key in the loss dict; must start with ``loss_`` to count in the total.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """

    def __init__(
        self,
        class_weight: Sequence[float] | None = None,
        loss_weight: float = 1.0,
        ignore_index: int = 255,
        avg_non_ignore: bool = False,
        loss_name: str = "loss_ce",
    ):
        super().__init__(class_weight, loss_weight, ignore_index, loss_name)
        self.avg_non_ignore = avg_non_ignore

    def _loss(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return cross_entropy(pred, label, self.class_weight, self.ignore_index, self.avg_non_ignore)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, avg_non_ignore={self.avg_non_ignore}"
