"""Runner extensions: hooks (HOOKS), the log processor (LOG_PROCESSORS), checkpoint loading."""

from .checkpoint import allowlist_checkpoint_globals
from .hooks import *  # noqa: F401,F403
from .log_processor import SegLogProcessor

__all__ = ["SegLogProcessor", "allowlist_checkpoint_globals"]
