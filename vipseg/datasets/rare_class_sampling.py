"""Rare-class sampling (DAFormer, Hoyer et al., CVPR 2022): draw a class first, favouring the
rare ones, then an image that shows it, so rare classes reach the model far more often than
uniform image sampling lets them.
"""

import copy
import logging

import numpy as np
from mmengine.logging import print_log

from vipseg.registry import DATASETS
from vipseg.utils.errors import ConfigError, DataError

from .basesegdataset import BaseSegDataset
from .label_stats import class_pixel_counts


def rcs_probabilities(
    class_pixels: np.ndarray, eligible: np.ndarray, temperature: float
) -> np.ndarray:
    """``P(c) = softmax((1 - f_c) / T)`` over the eligible classes, 0 for the others.

    Args:
        class_pixels: ``(num_classes,)`` pixels of each class over the split.
        eligible: ``(num_classes,)`` bool, classes with at least one eligible image.
        temperature: ``T``; small values favour rare classes strongly, large ones flatten.
    """
    freq = class_pixels / max(int(class_pixels.sum()), 1)
    logits = (1.0 - freq[eligible]) / temperature
    # Shifting by the max keeps exp() finite for small T (logits reach 1/T).
    weights = np.exp(logits - logits.max())
    probs = np.zeros(len(class_pixels), np.float64)
    probs[eligible] = weights / weights.sum()
    return probs


@DATASETS.register_module()
class RareClassSampling:
    """Wrap a labelled dataset so each item shows a class drawn with :func:`rcs_probabilities`.

    An item is made by drawing ``c ~ P``, then an image uniformly among those with at least
    ``min_pixels`` pixels of ``c``; its data info gets ``sample_class = c`` (which
    ``RandomCrop(class_aware=True)`` uses to keep ``c`` in the crop) and goes through the
    wrapped dataset's pipeline. Per-image class counts are computed once, at ``full_init``.

    Like mmengine's ``ClassBalancedDataset`` this is not a ``BaseDataset`` (subsets would be
    ambiguous); set ``indices`` on the wrapped dataset instead.

    Args:
        dataset: the dataset (or its config) to sample from; it must be labelled.
        temperature: softmax temperature ``T`` (> 0).
        min_pixels: an image contains class ``c`` only with at least this many pixels of it.
        workers: processes decoding label maps for the statistics (0: this process).
        max_refetch: draws in a row whose pipeline returns None before giving up.
        lazy_init: defer the statistics to :meth:`full_init` (or the first item).
    """

    def __init__(
        self,
        dataset: dict | BaseSegDataset,
        temperature: float = 0.01,
        min_pixels: int = 3000,
        workers: int = 0,
        max_refetch: int = 100,
        lazy_init: bool = False,
    ):
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseSegDataset):
            raise ConfigError(
                f"RareClassSampling: dataset must be a BaseSegDataset or its config, "
                f"got {type(dataset).__name__}"
            )
        if not temperature > 0:
            raise ConfigError(f"RareClassSampling: temperature must be > 0, got {temperature!r}")
        if min_pixels < 1 or max_refetch < 1 or workers < 0:
            raise ConfigError(
                f"RareClassSampling: need min_pixels >= 1, max_refetch >= 1, workers >= 0; "
                f"got {min_pixels}, {max_refetch}, {workers}"
            )
        self.dataset = dataset
        self.temperature = float(temperature)
        self.min_pixels = int(min_pixels)
        self.workers = int(workers)
        self.max_refetch = int(max_refetch)
        self._metainfo = dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Count class pixels per image and derive the class and image distributions."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        counts = class_pixel_counts(self.dataset, self.workers)
        # Indices of the images holding >= min_pixels of each class; empty for some classes.
        self.class_images = [np.flatnonzero(col >= self.min_pixels) for col in counts.T]
        eligible = np.array([len(images) > 0 for images in self.class_images], bool)
        if not eligible.any():
            raise DataError(
                f"RareClassSampling: no image of {self.dataset.data_root} has >= "
                f"{self.min_pixels} pixels of any class; lower min_pixels"
            )
        self._warn_ineligible(eligible)
        self.class_probabilities = rcs_probabilities(counts.sum(0), eligible, self.temperature)
        self._fully_initialized = True

    def _warn_ineligible(self, eligible: np.ndarray) -> None:
        if eligible.all():
            return
        names = [self._metainfo["classes"][c] for c in np.flatnonzero(~eligible)]
        print_log(
            f"RareClassSampling: never sampled (no image of {self.dataset.data_root} has >= "
            f"{self.min_pixels} pixels of them): {', '.join(names)}",
            logger="current",
            level=logging.WARNING,
        )

    def draw(self) -> tuple[int, int]:
        """A ``(class, image index)`` pair, from numpy's global RNG (seeded per worker)."""
        probs = self.class_probabilities
        cls = int(np.random.choice(len(probs), p=probs))
        images = self.class_images[cls]
        return cls, int(images[np.random.randint(len(images))])

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's data info of image ``idx`` (no sampling involved)."""
        return self.dataset.get_data_info(idx)

    def __getitem__(self, idx: int) -> dict:
        """A freshly sampled item; ``idx`` is ignored because the class draw replaces it (the
        sampler still sets how many items an epoch has)."""
        self.full_init()
        for _ in range(self.max_refetch):
            cls, image = self.draw()
            info = self.dataset.get_data_info(image)
            info["sample_class"] = cls
            data = self.dataset.pipeline(info)
            if data is not None:
                return data
        raise DataError(
            f"RareClassSampling: the pipeline of {self.dataset.data_root} returned None for "
            f"{self.max_refetch} draws in a row (last: {info['img_path']})"
        )

    def __len__(self) -> int:
        return len(self.dataset)
