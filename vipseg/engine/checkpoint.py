"""Let ``torch.load(weights_only=True)`` read the checkpoints mmengine writes.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True`` and refuses any pickled
global it does not know. mmengine 0.10 stores its ``MessageHub`` (``HistoryBuffer`` objects
holding numpy arrays) and numpy scalars in every checkpoint, so resuming fails. Turning
``weights_only`` off would let a crafted checkpoint run code; instead the few plain-data
types mmengine needs are allowlisted here.
"""

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _numpy_globals() -> list:
    # numpy 2 moved its internals to numpy._core; pickles name the module that wrote them.
    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    dtypes = [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)]
    return [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar, *dtypes]


def allowlist_checkpoint_globals() -> None:
    """Add mmengine's checkpoint types to torch's safe globals (idempotent)."""
    add = getattr(torch.serialization, "add_safe_globals", None)
    if add is None:  # torch < 2.4 has no allowlist and does not default to weights_only
        return
    add([HistoryBuffer, *_numpy_globals()])
