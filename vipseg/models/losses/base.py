"""The contract every vipseg loss follows, so any of them can sit in ``loss_decode``."""

from abc import ABCMeta, abstractmethod
from collections.abc import Sequence

import torch
from torch import nn

from vipseg.registry import MODELS


class BaseSegLoss(nn.Module, metaclass=ABCMeta):
    """Base class of the decode-head losses.

    Contract: ``forward(pred, label)`` takes logits ``(N, C, H, W)`` (any float dtype) and
    labels ``(N, H, W)`` int64 in ``[0, C)`` or ``ignore_index``, and returns a float32 scalar
    already multiplied by ``loss_weight``. Subclasses implement :meth:`_loss` on float32 logits
    with autocast off: log-softmax, sorting and per-class sums of bf16 values lose the small
    probabilities and pixel counts these losses are made of. Ignored pixels must not reach
    the value, so their logits get zero gradient.

    Args:
        class_weight: optional per-class weights (length C); its meaning is the subclass's.
        loss_weight: multiplier of this term in the total loss.
        ignore_index: label value excluded from the loss.
        loss_name: key in the loss dict; must start with ``loss_`` to count in the total.
    """

    def __init__(
        self,
        class_weight: Sequence[float] | None,
        loss_weight: float,
        ignore_index: int,
        loss_name: str,
    ):
        super().__init__()
        if not loss_name.startswith("loss_"):
            raise ValueError(f"loss_name must start with 'loss_' to be summed, got {loss_name!r}")
        self.loss_weight = float(loss_weight)
        self.ignore_index = int(ignore_index)
        self.loss_name = loss_name
        weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float)
        self.register_buffer("class_weight", weight, persistent=False)

    def forward(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        if pred.dim() != 4 or label.shape != (pred.shape[0], *pred.shape[2:]):
            raise ValueError(
                f"{type(self).__name__}: expected pred (N, C, H, W) and label (N, H, W), "
                f"got {tuple(pred.shape)} and {tuple(label.shape)}"
            )
        if self.class_weight is not None and self.class_weight.numel() != pred.shape[1]:
            raise ValueError(
                f"{type(self).__name__}: class_weight has {self.class_weight.numel()} entries "
                f"but the prediction has {pred.shape[1]} classes"
            )
        with torch.autocast(device_type=pred.device.type, enabled=False):
            return self.loss_weight * self._loss(as_float(pred), label)

    @abstractmethod
    def _loss(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """The unweighted loss of float32 (or float64) logits; autocast is off here."""

    def extra_repr(self) -> str:
        return (
            f"loss_weight={self.loss_weight}, ignore_index={self.ignore_index}, "
            f"loss_name={self.loss_name!r}"
        )


def as_float(pred: torch.Tensor) -> torch.Tensor:
    """``pred`` in float32, or float64 if it already is (gradcheck runs in float64)."""
    return pred if pred.dtype == torch.float64 else pred.float()


def zero_loss(pred: torch.Tensor) -> torch.Tensor:
    """A zero that keeps ``pred`` in the graph: an all-ignored batch gives zero gradient
    rather than NaN or an unused-parameter error under DDP."""
    return pred.sum() * 0.0


def valid_pixels(
    pred: torch.Tensor, label: torch.Tensor, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(P, C)`` and labels ``(P,)`` of the P non-ignored pixels.

    Selecting rather than masking keeps ignored pixels out of every later operation, so a
    loss term that is infinite or NaN at an ignored pixel cannot poison the gradient.
    """
    valid = label != ignore_index
    return pred.permute(0, 2, 3, 1)[valid], label[valid]


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def registered_losses() -> list[str]:
    """Sorted names of the registered :class:`BaseSegLoss` subclasses (for tests and tools)."""
    MODELS.import_from_location()
    return sorted(
        name
        for name, cls in MODELS.module_dict.items()
        if isinstance(cls, type) and issubclass(cls, BaseSegLoss)
    )
