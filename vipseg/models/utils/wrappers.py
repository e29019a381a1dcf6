"""Small tensor helpers shared by heads and segmentors."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def resize(
    x: torch.Tensor, size: Sequence[int], mode: str = "bilinear", align_corners: bool = False
) -> torch.Tensor:
    """``F.interpolate`` to ``size`` (h, w); a no-op when the size already matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    kwargs = {} if mode == "nearest" else {"align_corners": align_corners}
    return F.interpolate(x, size=tuple(size), mode=mode, **kwargs)


def stack_gt(data_samples: Sequence, field: str = "gt_sem_seg") -> torch.Tensor:
    """Stack one PixelData field of a batch into ``(N, H, W)`` int64."""
    return torch.stack([getattr(s, field).data for s in data_samples]).squeeze(1).long()
