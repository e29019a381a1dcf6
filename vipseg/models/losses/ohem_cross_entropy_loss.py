"""Cross entropy over the hardest pixels only (online hard example mining)."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from vipseg.registry import MODELS

from .base import BaseSegLoss


def ohem_mask(
    pixel_loss: torch.Tensor, valid: torch.Tensor, thresh: float | None, num_kept: int
) -> torch.Tensor:
    """Boolean mask of the pixels OHEM keeps.

    With ``thresh``: the valid pixels whose true-class probability ``exp(-CE)`` is below
    ``max(thresh, p_k)``, where ``p_k`` is the ``num_kept``-th smallest such probability, so
    at least ``num_kept`` pixels (or all valid ones) stay even when the model is confident.
    Without: the ``num_kept`` valid pixels of highest loss.

    Ignored pixels are ranked last (loss -inf, probability +inf) instead of being selected
    out, and ``p_k`` is gathered at a tensor index, so the GPU never waits for the number of
    valid pixels or for ``p_k``.
    """
    with torch.no_grad():
        losses, valid = pixel_loss.reshape(-1), valid.reshape(-1)
        if thresh is None:
            ranked = torch.where(valid, losses, -torch.inf)
            keep = torch.zeros_like(valid)
            keep[ranked.topk(min(num_kept, ranked.numel())).indices] = True
            return (keep & valid).view_as(pixel_loss)
        prob = torch.where(valid, torch.exp(-losses), torch.inf)
        num_valid = valid.sum()
        # the num_kept-th smallest valid probability, or the largest when fewer are valid
        k = (num_valid - 1).clamp(min=0, max=num_kept)
        kth = prob.sort().values.gather(0, k[None])
        chosen = (prob < kth.clamp(min=thresh)) | (num_valid <= num_kept)
        return (chosen & valid).view_as(pixel_loss)


@MODELS.register_module()
class OhemCrossEntropyLoss(BaseSegLoss):
    """Cross entropy averaged over the hard pixels OHEM keeps (see :func:`ohem_mask`).

    Hard pixels are chosen per batch; how many at least is set per image and scales with the
    crop: ``min_kept`` pixels for an image of ``min_kept_size``, proportionally more or fewer
    for other crops (MMSegmentation's 100000 at 512x1024 is the default).

    Args:
        thresh: probability of the true class below which a pixel is hard (0.7 is common);
            None keeps exactly the hardest ``min_kept`` pixels per image.
        min_kept: pixels kept per image of ``min_kept_size`` at least.
        min_kept_size: ``(h, w)`` the ``min_kept`` figure refers to.
        class_weight: per-class weights; the average is then weighted by them.
        loss_weight, ignore_index, loss_name: as in :class:`BaseSegLoss`.

    Shape:
        pred ``(N, C, H, W)``, label ``(N, H, W)`` int64 -> scalar.
    """

    def __init__(
        self,
        thresh: float | None = 0.7,
        min_kept: int = 100_000,
        min_kept_size: Sequence[int] = (512, 1024),
        class_weight: Sequence[float] | None = None,
        loss_weight: float = 1.0,
        ignore_index: int = 255,
        loss_name: str = "loss_ohem",
    ):
        super().__init__(class_weight, loss_weight, ignore_index, loss_name)
        if thresh is not None and not 0 < thresh <= 1:
            raise ValueError(f"thresh must be in (0, 1] or None, got {thresh!r}")
        if min_kept < 1 or len(min_kept_size) != 2 or min(min_kept_size) < 1:
            raise ValueError(
                f"min_kept must be >= 1 and min_kept_size an (h, w) pair, got {min_kept!r}, "
                f"{min_kept_size!r}"
            )
        self.thresh = thresh
        self.min_kept = int(min_kept)
        self.min_kept_size = tuple(int(s) for s in min_kept_size)

    def kept_per_image(self, height: int, width: int) -> int:
        ref_h, ref_w = self.min_kept_size
        return max(1, round(self.min_kept * height * width / (ref_h * ref_w)))

    def _loss(self, pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        pixel_loss = F.cross_entropy(pred, label, reduction="none", ignore_index=self.ignore_index)
        valid = label != self.ignore_index
        num_kept = pred.shape[0] * self.kept_per_image(*label.shape[-2:])
        keep = ohem_mask(pixel_loss, valid, self.thresh, num_kept)
        # no pixel kept gives 0 with zero gradient: the weights' sum is clamped below
        weight = keep.to(pixel_loss.dtype)
        if self.class_weight is not None:
            cw = self.class_weight.to(pixel_loss.dtype)
            weight = weight * cw[label.clamp(0, cw.numel() - 1)]
        return (pixel_loss * weight).sum() / weight.sum().clamp(min=torch.finfo(weight.dtype).eps)

    def extra_repr(self) -> str:
        return (
            f"thresh={self.thresh}, min_kept={self.min_kept}, "
            f"min_kept_size={self.min_kept_size}, {super().extra_repr()}"
        )
