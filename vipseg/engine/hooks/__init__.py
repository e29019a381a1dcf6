from .grad_norm_hook import GradNormHook
from .progress_hook import ProgressBarHook
from .submission_hook import CityscapesSubmissionHook
from .visualization_hook import SegVisualizationHook

__all__ = ["CityscapesSubmissionHook", "GradNormHook", "ProgressBarHook", "SegVisualizationHook"]
