"""Lovász-Softmax: a convex surrogate that optimises the per-class Jaccard index (IoU)."""

import torch
import torch.nn.functional as F

from vipseg.registry import MODELS

from .base import BaseSegLoss, check_choice, masked_mean, masked_pixels


def lovasz_grad(gt_sorted: torch.Tensor) -> torch.Tensor:
    """Gradient of the Lovász extension of the Jaccard loss w.r.t. errors sorted in
    decreasing order (Berman et al. 2018, Alg. 1); ``gt_sorted`` is the 0/1 ground truth in
    that order."""
    positives = gt_sorted.sum()
    intersection = positives - gt_sorted.cumsum(0)
    union = positives + (1 - gt_sorted).cumsum(0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def _lovasz_flat(
    probs: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor, classes: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean Lovász hinge over classes for pixels ``probs (P, C)``, ``labels (P,)`` with 0/1
    ``valid (P,)``, and whether any pixel is valid (a 0-d 0/1 tensor).

    Every class gets a term and the mean weights them, so nothing is read back to decide
    which classes are present. An ignored pixel has error 0: it sorts after every pixel with
    an error, and a 0/0 Jaccard is impossible, so the terms equal those over the valid pixels
    alone.
    """
    terms, present = [], []
    for c in range(probs.shape[1]):
        fg = (labels == c).to(probs.dtype) * valid
        errors = (fg - probs[:, c]).abs() * valid
        errors_sorted, order = errors.sort(descending=True)
        terms.append(torch.dot(errors_sorted, lovasz_grad(fg[order])))
        present.append(fg.amax())
    any_valid = valid.amax()
    used = torch.stack(present) if classes == "present" else any_valid.expand(len(terms))
    return masked_mean(torch.stack(terms), used), any_valid


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
    terms, has_valid = [], []
    for image_pred, image_label in pairs:
        logits, labels, valid = masked_pixels(image_pred, image_label, ignore_index)
        term, any_valid = _lovasz_flat(F.softmax(logits, dim=1), labels, valid, classes)
        terms.append(term)
        has_valid.append(any_valid)
    return masked_mean(torch.stack(terms), torch.stack(has_valid))


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
