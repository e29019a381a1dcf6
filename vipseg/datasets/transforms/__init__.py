"""Data pipeline transforms; each maps a results dict to a results dict."""

from .formatting import PackSegInputs
from .geometric import Pad, RandomCrop, RandomFlip, RandomResize, Resize
from .loading import LoadAnnotations, LoadImageFromFile
from .photometric import PhotoMetricDistortion

__all__ = [
    "LoadAnnotations",
    "LoadImageFromFile",
    "PackSegInputs",
    "Pad",
    "PhotoMetricDistortion",
    "RandomCrop",
    "RandomFlip",
    "RandomResize",
    "Resize",
]
