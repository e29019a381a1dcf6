"""Region losses on soft per-class counts: Focal-Tversky and Dice."""

import torch
import torch.nn.functional as F

from vipseg.registry import MODELS

from .base import BaseSegLoss, check_choice, masked_mean, masked_pixels


def tversky_index(
    probs: torch.Tensor,
    labels: torch.Tensor,
    valid: torch.Tensor,
    alpha: float,
    beta: float,
    smooth: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class Tversky index ``(TP + s) / (TP + alpha FN + beta FP + s)`` of soft
    predictions over the valid pixels, and the per-class pixel counts of the labels.

    TP, FN and FP are sums of probabilities (TP_c = sum of p_c over pixels labelled c,
    FN_c = count_c - TP_c, FP_c = sum of p_c - TP_c), computed without a one-hot tensor.
    The counts are an ``index_add`` of ``valid``, not a ``bincount``, which on a GPU reads
    the largest label back to size its output. A class with no pixel and no probability
    mass (possible only with ``smooth = 0``) gets index 0, not 0 / 0.

    Shape:
        probs ``(P, C)``, labels ``(P,)`` in ``[0, C)``, valid ``(P,)`` 0/1 -> ``(C,)`` index
        and ``(C,)`` counts.
    """
    probs = probs * valid[:, None]
    zeros = probs.new_zeros(probs.shape[1])
    tp = zeros.index_add(0, labels, probs.gather(1, labels[:, None])[:, 0])
    count = zeros.index_add(0, labels, valid)
    fn = count - tp
    fp = probs.sum(0) - tp
    denom = (tp + alpha * fn + beta * fp + smooth).clamp(min=torch.finfo(probs.dtype).tiny)
    return (tp + smooth) / denom, count


def focal_tversky(
    pred: torch.Tensor,
    label: torch.Tensor,
    alpha: float = 0.7,
    beta: float = 0.3,
    gamma: float = 4 / 3,
    smooth: float = 1.0,
    classes: str = "present",
    ignore_index: int = 255,
) -> torch.Tensor:
    """Focal-Tversky loss (Abraham & Khan 2019): ``mean_c (1 - TI_c) ** (1 / gamma)`` over
    the batch's non-ignored pixels, with TI the Tversky index of the softmax probabilities.

    ``alpha`` weighs false negatives and ``beta`` false positives, so ``alpha > beta`` trades
    precision for recall on small classes; ``gamma > 1`` (the exponent is ``1 / gamma``, as in
    the paper) raises the loss of classes that are already well segmented less than that of
    poorly segmented ones. ``alpha = beta = 0.5``, ``gamma = 1`` is the Dice loss.

    Args:
        pred: logits.
        label: class indices or ``ignore_index``.
        alpha, beta, gamma: as above (the paper's defaults).
        smooth: added to numerator and denominator; keeps an absent class finite.
        classes: ``'present'`` averages over the classes in the batch's labels, ``'all'``
            over all C.
        ignore_index: label value excluded from the loss.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar (0 with zero gradient when
        every pixel is ignored).
    """
    check_choice("classes", classes, ("present", "all"))
    logits, labels, valid = masked_pixels(pred, label, ignore_index)
    index, count = tversky_index(F.softmax(logits, dim=1), labels, valid, alpha, beta, smooth)
    # Classes are weighted, not selected, so no count is read back; with no valid pixel at
    # all the loss is 0 in both modes.
    used = (count > 0) if classes == "present" else (valid.amax() > 0).expand_as(count)
    # clamp: rounding can push the index a hair above 1, and a fractional power of a
    # negative number is NaN. An unused class's base is 1, not its 1 - index (0 for a class
    # with no mass at all), whose power would have an infinite gradient times weight 0.
    base = torch.where(used, (1 - index).clamp(min=0), 1.0)
    return masked_mean(base ** (1 / gamma), used.to(base.dtype))


@MODELS.register_module()
class FocalTverskyLoss(BaseSegLoss):
    """Focal-Tversky loss module (see :func:`focal_tversky`).

    Args:
        alpha: weight of false negatives (0.7).
        beta: weight of false positives (0.3).
        gamma: focal parameter; the loss is ``(1 - TI) ** (1 / gamma)`` (4/3).
        smooth: additive smoothing of the index.
        classes: ``'present'`` or ``'all'``.
        loss_weight, ignore_index, loss_name: as in :class:`BaseSegLoss`.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """

    def __init__(
        self,
        alpha: float = 0.7,
        beta: float = 0.3,
        gamma: float = 4 / 3,
        smooth: float = 1.0,
        classes: str = "present",
        loss_weight: float = 1.0,
        ignore_index: int = 255,
        loss_name: str = "loss_focal_tversky",
    ):
        super().__init__(None, loss_weight, ignore_index, loss_name)
        if alpha < 0 or beta < 0 or gamma <= 0 or smooth < 0:
            raise ValueError(
                f"need alpha, beta, smooth >= 0 and gamma > 0, got alpha={alpha}, "
                f"beta={beta}, gamma={gamma}, smooth={smooth}"
            )
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.smooth = float(smooth)
        self.classes = check_choice("classes", classes, ("present", "all"))

    def _loss(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return focal_tversky(
            pred, label, self.alpha, self.beta, self.gamma, self.smooth, self.classes,
            self.ignore_index,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"alpha={self.alpha}, beta={self.beta}, gamma={self.gamma:.4g}, "
            f"smooth={self.smooth}, classes={self.classes!r}, {super().extra_repr()}"
        )


@MODELS.register_module()
class DiceLoss(FocalTverskyLoss):
    """Soft Dice loss ``mean_c 1 - (2 TP + s) / (2 TP + FN + FP + s)``: the Tversky index
    with ``alpha = beta = 0.5`` and no focal exponent.

    Args:
        smooth: additive smoothing.
        classes: ``'present'`` or ``'all'``.
        loss_weight, ignore_index, loss_name: as in :class:`BaseSegLoss`.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """

    def __init__(
        self,
        smooth: float = 1.0,
        classes: str = "present",
        loss_weight: float = 1.0,
        ignore_index: int = 255,
        loss_name: str = "loss_dice",
    ):
        super().__init__(0.5, 0.5, 1.0, smooth, classes, loss_weight, ignore_index, loss_name)

    def extra_repr(self) -> str:
        return f"smooth={self.smooth}, classes={self.classes!r}, {BaseSegLoss.extra_repr(self)}"
