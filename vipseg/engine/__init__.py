"""Runner extensions: hooks (registered in HOOKS) and checkpoint loading support."""

from .checkpoint import allowlist_checkpoint_globals
from .hooks import *  # noqa: F401,F403

__all__ = ["allowlist_checkpoint_globals"]
