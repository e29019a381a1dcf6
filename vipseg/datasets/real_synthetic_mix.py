"""Training on real and synthetic pairs (e.g. from tools/generative/synthesize.py) at a set
share of synthetic samples."""

import copy

import numpy as np

from vipseg.registry import DATASETS
from vipseg.utils.errors import ConfigError


@DATASETS.register_module()
class RealSyntheticMix:
    """The real split plus synthetic items, ``synthetic_ratio`` of all items.

    The wrapper has ``n_real + n_syn`` items with ``n_syn = round(n_real * r / (1 - r))``:
    items ``0 .. n_real - 1`` are the real samples, each once per pass, so a shuffling sampler
    shows every real sample once per epoch and the synthetic share of an epoch is ``r`` up to
    rounding. A synthetic item is a uniform draw from the whole synthetic set (numpy's global
    RNG, seeded per worker), so all of it is used however its size compares with ``n_syn``.
    ``r = 0`` is the real split alone.

    ``--data-root`` (``set_data_root``) moves ``dataset``, the real split; ``synthetic`` keeps
    its own root. Both must have the same classes; the metainfo is the real split's.

    Args:
        dataset: the real dataset or its config.
        synthetic: the synthetic dataset or its config (usually the same type and
            ``data_prefix`` with the synthesized folder as ``data_root``).
        synthetic_ratio: the share ``r`` of synthetic items, ``0 <= r < 1``.
    """

    def __init__(self, dataset, synthetic, synthetic_ratio: float = 0.25):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.synthetic = DATASETS.build(synthetic) if isinstance(synthetic, dict) else synthetic
        if not 0 <= synthetic_ratio < 1:
            raise ConfigError(
                f"RealSyntheticMix: synthetic_ratio must be in [0, 1), got {synthetic_ratio!r}"
            )
        real, syn = self.dataset.metainfo["classes"], self.synthetic.metainfo["classes"]
        if tuple(real) != tuple(syn):
            raise ConfigError(
                f"RealSyntheticMix: the synthetic dataset's classes {tuple(syn)} differ from "
                f"the real dataset's {tuple(real)}"
            )
        if len(self.synthetic) == 0 and synthetic_ratio > 0:
            raise ConfigError("RealSyntheticMix: the synthetic dataset is empty")
        self.synthetic_ratio = float(synthetic_ratio)
        n_real = len(self.dataset)
        self.num_synthetic = round(n_real * self.synthetic_ratio / (1 - self.synthetic_ratio))

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        self.dataset.full_init()
        self.synthetic.full_init()

    def is_synthetic(self, idx: int) -> bool:
        """Whether item ``idx`` is drawn from the synthetic set."""
        return idx >= len(self.dataset)

    def __len__(self) -> int:
        return len(self.dataset) + self.num_synthetic

    def __getitem__(self, idx: int) -> dict:
        if not 0 <= idx < len(self):
            raise IndexError(f"RealSyntheticMix: index {idx} out of range 0..{len(self) - 1}")
        if not self.is_synthetic(idx):
            return self.dataset[idx]
        return self.synthetic[int(np.random.randint(len(self.synthetic)))]
