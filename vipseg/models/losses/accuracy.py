"""Pixel accuracy of logits, logged beside the loss."""

import torch


def accuracy(pred: torch.Tensor, label: torch.Tensor, ignore_index: int = 255) -> torch.Tensor:
    """Fraction of non-ignored pixels whose argmax equals the label (0 if none is valid).

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` -> scalar tensor, no gradient.
    """
    with torch.no_grad():
        valid = label != ignore_index
        correct = (pred.argmax(dim=1) == label) & valid
        return correct.sum().float() / valid.sum().clamp(min=1)
