"""Let ``torch.load(weights_only=True)`` read the checkpoints mmengine writes.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and refuses any pickled
global it does not know. mmengine 0.10 stores its ``MessageHub`` in every checkpoint:
``HistoryBuffer`` objects holding numpy arrays, whose state also names the buffer's statistics
methods as ``getattr(HistoryBuffer, 'mean')``. Turning ``weights_only`` off would let a
crafted checkpoint run code; instead the plain-data types mmengine needs are allowlisted, and
``getattr`` is replaced, for the unpickler only, by one that resolves nothing but those
statistics methods.
"""

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.utils import digit_version

# The methods HistoryBuffer registers on itself (``_set_default_statistics``).
HISTORY_BUFFER_METHODS = ("min", "max", "current", "mean")


def history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods."""
    if obj is not HistoryBuffer or name not in HISTORY_BUFFER_METHODS:
        raise torch.serialization.pickle.UnpicklingError(
            f"checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer statistics "
            f"methods {HISTORY_BUFFER_METHODS} are allowed"
        )
    return getattr(HistoryBuffer, name)


def _numpy_globals() -> list:
    # numpy 2 moved its internals to numpy._core; pickles name the module that wrote them.
    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    dtypes = [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)]
    return [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar, *dtypes]


def allowlist_checkpoint_globals() -> None:
    """Add mmengine's checkpoint types to torch's safe globals (idempotent).

    A no-op before torch 2.6, where ``torch.load`` unpickles everything by default.
    """
    if digit_version(torch.__version__) < digit_version("2.6.0"):
        return
    getattrs = [(history_buffer_getattr, f"{m}.getattr") for m in ("__builtin__", "builtins")]
    torch.serialization.add_safe_globals([HistoryBuffer, *_numpy_globals(), *getattrs])
