"""vipseg: an MMSegmentation-style toolbox for data-efficient urban-scene segmentation."""

__version__ = "0.1.0"
