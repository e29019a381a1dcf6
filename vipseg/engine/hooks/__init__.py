from .checkpoint_hook import SegCheckpointHook
from .grad_norm_hook import GradNormHook
from .nonfinite_hook import NonFiniteCheckHook
from .progress_hook import ProgressBarHook
from .runtime_info_hook import SegRuntimeInfoHook
from .submission_hook import CityscapesSubmissionHook
from .visualization_hook import SegVisualizationHook

__all__ = [
    "CityscapesSubmissionHook",
    "GradNormHook",
    "NonFiniteCheckHook",
    "ProgressBarHook",
    "SegCheckpointHook",
    "SegRuntimeInfoHook",
    "SegVisualizationHook",
]
