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


def masked_pixels(
    pred: torch.Tensor, label: torch.Tensor, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits ``(P, C)``, labels ``(P,)`` and a float 0/1 validity ``(P,)`` of all P pixels.

    Ignored pixels keep their rows, so every shape is known without reading the labels back:
    selecting the valid pixels instead (``pred[valid]``) makes the GPU wait for the CPU to
    learn how many there are, once per loss per step. Their logits are replaced by zeros with
    ``torch.where`` (not multiplied by the mask), so an infinite or NaN logit there cannot
    reach the value or the gradient, and their labels by 0 so gathers stay in range; a loss
    multiplies its per-pixel or per-class terms by ``valid``.
    """
    valid = (label != ignore_index).reshape(-1)
    logits = pred.permute(0, 2, 3, 1).reshape(valid.numel(), -1)
    logits = torch.where(valid[:, None], logits, logits.new_zeros(()))
    labels = torch.where(valid, label.reshape(-1), 0)
    return logits, labels, valid.to(logits.dtype)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where the 0/1 ``mask`` is 1, and 0 with zero gradient where it is
    all 0: an all-ignored batch gives 0 rather than NaN or an unused-parameter error under
    DDP."""
    return (values * mask).sum() / mask.sum().clamp(min=1)


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
