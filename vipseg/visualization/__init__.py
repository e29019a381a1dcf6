"""Visualizers (registered in VISUALIZERS) and color helpers."""

from .local_visualizer import SegLocalVisualizer, colorize, overlay
from .vis_backends import SegWandbVisBackend

__all__ = ["SegLocalVisualizer", "SegWandbVisBackend", "colorize", "overlay"]
