"""CopyBlob: paste connected components of rare classes onto the ground they stand on."""

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from vipseg.registry import MODELS

from .base import BatchAugment, check_prob, to_device

# (source, destination) class pairs. Cityscapes train IDs, the seed tutorial's rules:
# wall -> sidewalk, fence -> sidewalk, bus -> road, train -> road.
# CamVid (11 classes): fence, pole, pedestrian -> pavement; bicyclist -> road.
PRESETS = {
    "cityscapes": ((3, 1), (4, 1), (15, 0), (16, 0)),
    "camvid": ((7, 4), (2, 4), (9, 4), (10, 3)),
}


def _rules(rules: str | Sequence[Sequence[int]]) -> tuple[tuple[int, int], ...]:
    if isinstance(rules, str):
        if rules not in PRESETS:
            raise ValueError(f"rules preset must be one of {sorted(PRESETS)}, got {rules!r}")
        return PRESETS[rules]
    pairs = tuple(tuple(int(c) for c in pair) for pair in rules)
    if not pairs or any(len(p) != 2 or p[0] == p[1] or min(p) < 0 for p in pairs):
        raise ValueError(f"rules must be (source, destination) class pairs, got {rules!r}")
    return pairs


@MODELS.register_module()
class CopyBlob(BatchAugment):
    """Copy connected components of a source class from a partner onto destination-class ground.

    For each sample and each rule ``(src, dst)``, with probability ``prob``: a partner in the
    batch that shows ``src`` is drawn; each 8-connected component of ``src`` in it (of at least
    ``min_pixels``) is centred on a random pixel of ``dst`` in the sample, the whole component's
    box moved to stay inside the image (never clipped, so nothing piles up at the border), and
    its image and label pixels are pasted where the sample still shows ``dst``. Pixels outside
    the pasted components never change; later blobs do not cover earlier ones.

    Components are labelled on the host (OpenCV), so this augment copies the label maps from
    the device once per batch (one synchronisation); the pixels are moved on the device.

    Args:
        rules: ``(source, destination)`` class pairs, or a preset name: ``'cityscapes'``
            (wall, fence -> sidewalk; bus, train -> road, as train IDs) or ``'camvid'``
            (fence, pole, pedestrian -> pavement; bicyclist -> road).
        prob: probability of applying each rule to a sample, one number or one per rule.
        min_pixels: smaller components are not pasted (crop edges cut many into slivers).
        max_blobs: at most this many components per rule and sample (the largest first);
            ``None`` pastes all.
    """

    def __init__(
        self,
        rules: str | Sequence[Sequence[int]] = "cityscapes",
        prob: float | Sequence[float] = 0.5,
        min_pixels: int = 32,
        max_blobs: int | None = None,
    ):
        self.rules = _rules(rules)
        probs = [prob] * len(self.rules) if isinstance(prob, int | float) else list(prob)
        if len(probs) != len(self.rules):
            raise ValueError(f"prob needs one value per rule ({len(self.rules)}), got {prob!r}")
        self.probs = tuple(check_prob(p) for p in probs)
        if min_pixels < 1 or (max_blobs is not None and max_blobs < 1):
            raise ValueError(f"need min_pixels >= 1, max_blobs >= 1, got {min_pixels}, {max_blobs}")
        self.min_pixels = int(min_pixels)
        self.max_blobs = max_blobs

    def source_index(self, labels: np.ndarray) -> np.ndarray:
        """(B, H, W) int64: the flat index into the batch each pixel is copied from, or -1."""
        # A numpy generator seeded from torch's, so runs are reproducible under one seed.
        rng = np.random.default_rng(int(torch.randint(2**31 - 1, ())))
        b, h, w = labels.shape
        index = np.full(labels.shape, -1, dtype=np.int64)
        current = labels.copy()
        for i in range(b):
            for (src, dst), prob in zip(self.rules, self.probs, strict=True):
                if rng.random() >= prob:
                    continue
                partners = [j for j in range(b) if j != i and (labels[j] == src).any()]
                if partners:
                    j = partners[rng.integers(len(partners))]
                    self._paste(rng, labels[j] == src, j * h * w, current[i], index[i], src, dst)
        return index

    def _paste(self, rng, source_mask, offset, current, index, src, dst) -> None:
        w = current.shape[1]
        for sy, sx, ty, tx in paste_components(
            rng, source_mask, current, src, dst, self.min_pixels, self.max_blobs
        ):
            index[ty, tx] = offset + sy * w + sx

    def __call__(self, inputs: torch.Tensor, labels: torch.Tensor):
        index = self.source_index(labels.cpu().numpy())
        if (index < 0).all():
            return inputs, labels
        b, c, h, w = inputs.shape
        flat_index = to_device(index.reshape(-1), inputs.device)
        keep = torch.arange(b * h * w, device=inputs.device)
        gather = torch.where(flat_index >= 0, flat_index, keep)
        pixels = inputs.permute(0, 2, 3, 1).reshape(-1, c)[gather]
        inputs = pixels.view(b, h, w, c).permute(0, 3, 1, 2).contiguous()
        return inputs, labels.reshape(-1)[gather].view_as(labels)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(rules={self.rules}, prob={self.probs}, "
            f"min_pixels={self.min_pixels}, max_blobs={self.max_blobs})"
        )


def paste_components(
    rng: np.random.Generator,
    source_mask: np.ndarray,
    current: np.ndarray,
    src: int,
    dst: int,
    min_pixels: int,
    max_blobs: int | None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Place the 8-connected components of ``source_mask`` onto ``dst`` pixels of ``current``.

    The placement rule of :class:`CopyBlob`, shared with its offline variant
    (``vipseg.generative.label_edits``): components of at least ``min_pixels``, largest first,
    at most ``max_blobs``; each is centred on a random pixel that showed ``dst`` before any
    paste, its whole box shifted to stay inside the map, and pasted only where ``current``
    still shows ``dst``. ``current`` (a class map the size of ``source_mask``) is updated in
    place, pasted pixels becoming ``src``.

    Returns:
        per pasted component, ``(sy, sx, ty, tx)``: the source and target coordinates of its
        pasted pixels (equal-length int arrays).
    """
    ys, xs = np.nonzero(current == dst)
    if not len(ys):
        return []
    n, components, stats, _ = cv2.connectedComponentsWithStats(
        source_mask.astype(np.uint8), connectivity=8
    )
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1
    big = [k for k in order if stats[k, cv2.CC_STAT_AREA] >= min_pixels]
    h, w = current.shape
    pasted = []
    for k in big[:max_blobs]:
        x0, y0, bw, bh = stats[k, :4]
        centre = rng.integers(len(ys))
        top = min(max(ys[centre] - bh // 2, 0), h - bh)
        left = min(max(xs[centre] - bw // 2, 0), w - bw)
        cy, cx = np.nonzero(components[y0 : y0 + bh, x0 : x0 + bw] == k)
        ty, tx = cy + top, cx + left
        onto = current[ty, tx] == dst
        ty, tx = ty[onto], tx[onto]
        current[ty, tx] = src
        pasted.append((cy[onto] + y0, cx[onto] + x0, ty, tx))
    return pasted
