from .submission_hook import CityscapesSubmissionHook
from .visualization_hook import SegVisualizationHook

__all__ = ["CityscapesSubmissionHook", "SegVisualizationHook"]
