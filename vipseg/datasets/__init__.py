"""Datasets (registered in DATASETS) and transforms (registered in TRANSFORMS)."""

from .basesegdataset import BaseSegDataset
from .camvid import CamVidDataset
from .cityscapes import CityscapesDataset
from .rare_class_sampling import RareClassSampling
from .real_synthetic_mix import RealSyntheticMix
from .transforms import *  # noqa: F401,F403

__all__ = [
    "BaseSegDataset",
    "CamVidDataset",
    "CityscapesDataset",
    "RareClassSampling",
    "RealSyntheticMix",
]
