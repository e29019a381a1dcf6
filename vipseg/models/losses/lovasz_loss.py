"""Lovász-Softmax: a convex surrogate that optimises the per-class Jaccard index (IoU)."""

import torch
import torch.nn.functional as F

from vipseg.registry import MODELS

from .base import BaseSegLoss, check_choice, valid_pixels, zero_loss


def lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovász extension of the Jaccard loss w.r.t. errors sorted in
    decreasing order (Berman et al. 2018, Alg. 1); ``gt_sorted`` is the 0/1 ground truth in
    that order."""
    positives = gt_sorted.sum()
    intersection = positives - gt_sorted.cumsum(0)
    union = positives + (1 - gt_sorted).cumsum(0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def _lovasz_flat(probs: torch.Tensor, labels: torch.Tensor, classes: str) -> torch.Tensor:
    """Mean Lovász hinge over classes for pixels ``probs (P, C)``, ``labels (P,)``."""
    losses = []
    for c in range(probs.shape[1]):
        fg = (labels == c).to(probs.dtype)
        if classes == "present" and not fg.any():
            continue
        errors = (fg - probs[:, c]).abs()
        errors_sorted, order = errors.sort(descending=True)
        losses.append(torch.dot(errors_sorted, lovasz_grad(fg[order])))
    return torch.stack(losses).mean()


def lovasz_softmax(
    pred: torch.Tensor,
    label: torch.Tensor,
    classes: str = "present",
    per_image: bool = False,
    ignore_index: int = 255,
) -> torch.Tensor:
    """Lovász-Softmax loss of logits (the softmax is taken here).

    Args:
        pred: logits.
        label: class indices or ``ignore_index``.
        classes: ``'present'`` averages over the classes in the label (of the image or the
            batch); ``'all'`` over all C, so an absent class is penalised for any
            probability it gets.
        per_image: one Lovász term per image, averaged over the images that have valid
            pixels; otherwise one term for the whole batch.
        ignore_index: label value excluded from the loss.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar. With no valid pixel the
        loss is 0 with zero gradient; a handful of valid pixels is a well-defined, small
        problem (one class present gives a non-zero loss unless its pixels are certain).
    """
    check_choice("classes", classes, ("present", "all"))
    pairs = zip(pred.split(1), label.split(1)) if per_image else [(pred, label)]
    terms = []
    for image_pred, image_label in pairs:
        logits, labels = valid_pixels(image_pred, image_label, ignore_index)
        if labels.numel():
            terms.append(_lovasz_flat(F.softmax(logits, dim=1), labels, classes))
    return torch.stack(terms).mean() if terms else zero_loss(pred)


@MODELS.register_module()
class LovaszLoss(BaseSegLoss):
    """Lovász-Softmax loss module (see :func:`lovasz_softmax`); pairs well with cross entropy
    as ``loss_decode=[dict(type='CrossEntropyLoss'), dict(type='LovaszLoss')]``.

    Args:
        classes: ``'present'`` or ``'all'``.
        per_image: a term per image instead of one per batch.
        loss_weight, ignore_index, loss_name: as in :class:`BaseSegLoss`.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """

    def __init__(
        self,
        classes: str = "present",
        per_image: bool = False,
        loss_weight: float = 1.0,
        ignore_index: int = 255,
        loss_name: str = "loss_lovasz",
    ):
        super().__init__(None, loss_weight, ignore_index, loss_name)
        self.classes = check_choice("classes", classes, ("present", "all"))
        self.per_image = bool(per_image)

    def _loss(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return lovasz_softmax(pred, label, self.classes, self.per_image, self.ignore_index)

    def extra_repr(self) -> str:
        return f"classes={self.classes!r}, per_image={self.per_image}, {super().extra_repr()}"
