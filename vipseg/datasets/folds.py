"""K-fold splits of multi-label data by iterative stratification, and how balanced they are.

The algorithm is that of Sechidis, Tsoumakas & Vlahavas (2011), "On the stratification of
multi-label data": the label with the fewest unassigned examples is handled first, and each of
its examples goes to the fold that still wants the most examples of that label. Rare classes
are thus spread before common ones can crowd them into a few folds.
"""

import numpy as np

from vipseg.utils.errors import ConfigError

__all__ = ["fold_label_counts", "iterative_stratification", "max_deviation", "random_folds"]


def _check(labels: np.ndarray, k: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ConfigError(f"labels must be an (images, labels) matrix, got shape {labels.shape}")
    if k < 2:
        raise ConfigError(f"the number of folds must be at least 2, got {k}")
    if k > len(labels):
        raise ConfigError(f"{k} folds need at least {k} images, got {len(labels)}")
    return labels.astype(bool)


def _pick(primary: np.ndarray, secondary: np.ndarray, rng: np.random.Generator) -> int:
    """The fold with the largest ``primary`` want, ties by ``secondary``, then at random."""
    best = np.flatnonzero(primary == primary.max())
    if len(best) > 1:
        best = best[secondary[best] == secondary[best].max()]
    return int(best[0] if len(best) == 1 else rng.choice(best))


def iterative_stratification(labels: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Fold ids (0..k-1) of the images, balanced in size and in every label's count.

    Desired counts are kept multiplied by ``k`` (``n - k * assigned`` instead of
    ``n / k - assigned``) so that ties are exact integer comparisons.

    Args:
        labels: ``(num_images, num_labels)`` presence matrix (bool or 0/1).
        k: number of folds, 2 <= k <= num_images.
        seed: seed of the random tie-breaking and of the order images are visited in.

    Returns:
        ``(num_images,)`` int64 fold ids. Images without any label fill the folds that still
        want the most images.
    """
    labels = _check(labels, k)
    rng = np.random.default_rng(seed)
    num_images = len(labels)
    order = rng.permutation(num_images)
    want_images = np.full(k, num_images, np.int64)
    want_labels = np.tile(labels.sum(0, dtype=np.int64), (k, 1))
    unassigned = labels.copy()
    folds = np.full(num_images, -1, np.int64)
    while unassigned.any():
        left = unassigned.sum(0)
        rarest = np.flatnonzero(left == left[left > 0].min())
        label = int(rarest[0] if len(rarest) == 1 else rng.choice(rarest))
        for image in order[unassigned[order, label]]:
            fold = _pick(want_labels[:, label], want_images, rng)
            folds[image] = fold
            unassigned[image] = False
            want_labels[fold] -= k * labels[image]
            want_images[fold] -= k
    for image in order[folds[order] < 0]:
        fold = _pick(want_images, want_images, rng)
        folds[image] = fold
        want_images[fold] -= k
    return folds


def random_folds(num_images: int, k: int, seed: int = 0) -> np.ndarray:
    """Fold ids of a plain shuffled split into k folds of equal size (the baseline).

    Args:
        num_images: number of images.
        k: number of folds.
        seed: seed of the shuffle.
    """
    _check(np.zeros((num_images, 0)), k)
    folds = np.empty(num_images, np.int64)
    folds[np.random.default_rng(seed).permutation(num_images)] = np.arange(num_images) % k
    return folds


def fold_label_counts(labels: np.ndarray, folds: np.ndarray, k: int) -> np.ndarray:
    """``(k, num_labels)`` number of images of each fold that contain each label.

    Args:
        labels: ``(num_images, num_labels)`` presence matrix.
        folds: ``(num_images,)`` fold ids.
        k: number of folds.
    """
    labels = np.asarray(labels, bool)
    counts = np.zeros((k, labels.shape[1]), np.int64)
    np.add.at(counts, np.asarray(folds), labels.astype(np.int64))
    return counts


def max_deviation(labels: np.ndarray, folds: np.ndarray, k: int) -> np.ndarray:
    """Per label, the largest ``|images in a fold - ideal share|`` over the folds.

    The ideal share of a label is its number of images divided by ``k``.

    Args:
        labels: ``(num_images, num_labels)`` presence matrix.
        folds: ``(num_images,)`` fold ids.
        k: number of folds.
    """
    counts = fold_label_counts(labels, folds, k)
    ideal = counts.sum(0) / k
    return np.abs(counts - ideal).max(0)
