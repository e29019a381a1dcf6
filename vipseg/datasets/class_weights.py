"""Class weights for the cross entropy loss, from the per-image pixel counts of a split.

Two published schemes, both on pixels that are not ``ignore_index``:

* ``median_freq`` (Eigen & Fergus 2015): ``freq(c)`` is the pixels of class ``c`` divided by
  all pixels of the images where ``c`` is present; ``w_c = median(freq) / freq(c)``.
* ``enet`` (Paszke et al. 2016): ``w_c = 1 / ln(1.02 + p_c)`` with ``p_c`` the share of class
  ``c`` in all pixels of the split.

Absent classes (no pixel in the split) have no frequency. They are left out of the median and
get the largest weight of the present classes: large enough that a few pixels of them in a
crop still count, bounded unlike ``1 / 0``. They carry no loss on this split anyway.
"""

from collections.abc import Sequence

import numpy as np

from vipseg.utils.errors import ConfigError, DataError

METHODS = ("median_freq", "enet")
ENET_C = 1.02  # the constant of ENet's weighting, as published


def _check_counts(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 2 or counts.shape[1] == 0:
        raise DataError(f"counts must be (num_images, num_classes), got shape {counts.shape}")
    if not counts.sum(axis=0).any():
        raise DataError(
            f"none of the {counts.shape[1]} classes has a labelled pixel in the "
            f"{counts.shape[0]} images: no class weights can be derived"
        )
    return counts


def pixel_shares(counts: np.ndarray) -> np.ndarray:
    """``p_c``: the share of each class in all counted (non-ignored) pixels of the split.

    Args:
        counts: ``(num_images, num_classes)`` pixel counts, as from ``class_pixel_counts``.
    """
    counts = _check_counts(counts)
    per_class = counts.sum(axis=0)
    return per_class / per_class.sum()


def median_freq_weights(counts: np.ndarray) -> np.ndarray:
    """Median-frequency balancing; absent classes get the largest present weight.

    Args:
        counts: ``(num_images, num_classes)`` pixel counts, as from ``class_pixel_counts``.
    """
    counts = _check_counts(counts)
    per_class = counts.sum(axis=0)
    present = per_class > 0
    image_pixels = counts.sum(axis=1)
    # Each class is normalised by the images it appears in, so a class seen rarely but large
    # where seen is not weighted as if it were spread thin over the whole split.
    seen_in = (counts > 0).astype(np.int64).T @ image_pixels
    freq = per_class[present] / seen_in[present]
    weights = np.empty(len(per_class))
    weights[present] = np.median(freq) / freq
    weights[~present] = weights[present].max()
    return weights


def enet_weights(counts: np.ndarray, c: float = ENET_C) -> np.ndarray:
    """ENet's ``1 / ln(c + p_c)``; absent classes get the largest present weight.

    Args:
        counts: ``(num_images, num_classes)`` pixel counts, as from ``class_pixel_counts``.
        c: the constant, 1.02 in the paper; it bounds the weights by ``1 / ln(c)``.
    """
    shares = pixel_shares(counts)
    present = shares > 0
    weights = 1.0 / np.log(c + shares)
    weights[~present] = weights[present].max()
    return weights


def class_weights(
    counts: np.ndarray, method: str = "median_freq", power: float = 1.0, normalize: bool = True
) -> np.ndarray:
    """Per-class loss weights of a split, in class index order.

    ``normalize`` rescales so that ``sum_c p_c * w_c = 1``: the expected weight of a labelled
    pixel is 1. vipseg's ``CrossEntropyLoss`` (default ``avg_non_ignore=False``) averages
    ``w_y * ce`` over pixels, so its scale is ``sum_c p_c w_c`` times the unweighted loss;
    with this normalisation the loss (and so the effective learning rate) starts at the
    magnitude of unweighted CE, only redistributed over classes. A plain mean over classes
    would not do that: it ignores how many pixels each weight is applied to. With
    ``avg_non_ignore=True`` the loss divides by the summed weights and the scale cancels.

    Args:
        counts: ``(num_images, num_classes)`` pixel counts, as from ``class_pixel_counts``.
        method: ``'median_freq'`` or ``'enet'``.
        power: exponent applied to the raw weights; 0.5 (square root) damps them, 1 keeps them.
        normalize: rescale so that the pixel-share-weighted mean weight is 1.
    """
    if method not in METHODS:
        raise ConfigError(f"class weight method must be one of {METHODS}, got {method!r}")
    if not power > 0:
        raise ConfigError(f"power must be > 0, got {power}")
    raw = median_freq_weights(counts) if method == "median_freq" else enet_weights(counts)
    weights = raw**power
    if normalize:
        weights = weights / float(pixel_shares(counts) @ weights)
    return weights


def absent_classes(counts: np.ndarray, class_names: Sequence[str]) -> list[str]:
    """Names of the classes with no counted pixel in ``counts``.

    Args:
        counts: ``(num_images, num_classes)`` pixel counts.
        class_names: one name per class.
    """
    per_class = np.asarray(counts).sum(axis=0)
    return [name for name, n in zip(class_names, per_class) if n == 0]


def _wrapped(prefix: str, items: list[str], close: str, width: int = 96) -> str:
    lines, line = [], prefix
    for item in items:
        if len(line) + len(item) + 2 > width:
            lines.append(line.rstrip())
            line = "    "
        line += item + ", "
    return "\n".join([*lines, line.rstrip(", ") + close])


def weights_file_text(weights: Sequence[float], class_names: Sequence[str], header: str) -> str:
    """A config fragment defining ``class_weight`` and ``class_names``.

    A config includes it with ``_base_ = [..., 'weights.py']`` and uses it as
    ``loss_decode=dict(class_weight={{_base_.class_weight}})``. The other bases must not
    define ``class_weight`` themselves (mmengine refuses keys duplicated across bases).

    Args:
        weights: one weight per class, written with 4 decimals.
        class_names: one name per class.
        header: comment lines (without ``#``) saying how the weights were made.
    """
    if len(weights) != len(class_names):
        raise ValueError(f"{len(weights)} weights for {len(class_names)} class names")
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    body = _wrapped("class_weight = [", [f"{w:.4f}" for w in weights], "]")
    names = _wrapped("class_names = (", [repr(str(n)) for n in class_names], ",)")
    return f"{comment}{body}\n{names}\n"
