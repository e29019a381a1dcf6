from .grad_norm_hook import GradNormHook
from .submission_hook import CityscapesSubmissionHook
from .visualization_hook import SegVisualizationHook

__all__ = ["CityscapesSubmissionHook", "GradNormHook", "SegVisualizationHook"]
