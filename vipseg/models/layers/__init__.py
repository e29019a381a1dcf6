"""Layers used through configs: EvoNorm norm-activation layers, norm/activation helpers."""

from .evonorm import EvoNormB0, EvoNormS0

__all__ = ["EvoNormB0", "EvoNormS0"]
