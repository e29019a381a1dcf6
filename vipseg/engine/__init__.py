"""Runner extensions: hooks, the log processor, the bf16 optim wrapper, checkpoint I/O."""

from .checkpoint import allowlist_checkpoint_globals
from .hooks import *  # noqa: F401,F403
from .log_processor import SegLogProcessor
from .optim_wrapper import SegAmpOptimWrapper

__all__ = ["SegAmpOptimWrapper", "SegLogProcessor", "allowlist_checkpoint_globals"]
