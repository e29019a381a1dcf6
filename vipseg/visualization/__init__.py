"""Visualizers (registered in VISUALIZERS) and color helpers."""

from .local_visualizer import SegLocalVisualizer, colorize, overlay

__all__ = ["SegLocalVisualizer", "colorize", "overlay"]
