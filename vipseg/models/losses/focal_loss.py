"""Softmax focal loss: cross entropy down-weighted on pixels the model already gets right."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from vipseg.registry import MODELS

from .base import BaseSegLoss, masked_mean, masked_pixels


def focal_loss(
    pred: torch.Tensor,
    label: torch.Tensor,
    gamma: float = 2.0,
    alpha: torch.Tensor | float | None = None,
    ignore_index: int = 255,
) -> torch.Tensor:
    """Mean over non-ignored pixels of ``-alpha_t * (1 - p_t) ** gamma * log(p_t)``
    (Lin et al. 2017, with a softmax over the classes), ``p_t`` the true-class probability.

    Args:
        pred: logits.
        label: class indices or ``ignore_index``.
        gamma: focusing exponent; 0 gives (alpha-weighted) cross entropy.
        alpha: a scalar, per-class weights ``(C,)`` (``alpha_t`` = weight of the true class),
            or None for 1.
        ignore_index: label value excluded from the loss.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """
    logits, labels, valid = masked_pixels(pred, label, ignore_index)
    log_pt = F.log_softmax(logits, dim=1).gather(1, labels[:, None])[:, 0]
    # clamp: 1 - exp(log p) can round to a tiny negative number, and x ** gamma of it is NaN.
    loss = -((1 - log_pt.exp()).clamp(min=0) ** gamma) * log_pt
    if isinstance(alpha, torch.Tensor):
        loss = loss * alpha.to(loss.dtype)[labels]
    elif alpha is not None:
        loss = loss * alpha
    return masked_mean(loss, valid)


@MODELS.register_module()
class FocalLoss(BaseSegLoss):
    """Focal loss module (see :func:`focal_loss`).

    Args:
        gamma: focusing exponent (2.0 as in the paper).
        alpha: a scalar or per-class weights (length C); None for 1.
        loss_weight, ignore_index, loss_name: as in :class:`BaseSegLoss`.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float | Sequence[float] | None = None,
        loss_weight: float = 1.0,
        ignore_index: int = 255,
        loss_name: str = "loss_focal",
    ):
        per_class = alpha is not None and not isinstance(alpha, int | float)
        super().__init__(alpha if per_class else None, loss_weight, ignore_index, loss_name)
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma!r}")
        self.gamma = float(gamma)
        self.alpha = None if alpha is None or per_class else float(alpha)

    def _loss(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        alpha = self.class_weight if self.class_weight is not None else self.alpha
        return focal_loss(pred, label, self.gamma, alpha, self.ignore_index)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, alpha={self.alpha}, {super().extra_repr()}"
