"""The aten ops that make a CUDA step wait for the host, recorded on any device.

On a GPU the CPU queues kernels ahead of the device; an op whose result's value or size the
CPU must know (``.item()``, a boolean-mask index, ``nonzero``, ``bincount`` sizing its output
from the largest label) stalls it until the GPU has caught up. These ops are the same on the
CPU, so a ``TorchDispatchMode`` sees them in CPU tests: what it records would sync on CUDA.
"""

import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
# ops whose output size or value needs the data (each reads back from the GPU)
SYNC_OPS = {
    aten._local_scalar_dense.default,  # .item(), bool(), float(), int()
    aten.nonzero.default,
    aten.masked_select.default,
    aten._unique2.default,
    aten.unique_dim.default,
    aten.unique_consecutive.default,
    aten.bincount.default,
    aten.repeat_interleave.Tensor,
    aten.is_nonzero.default,
    aten.equal.default,
}
# indexing ops that sync only when an index is a boolean (or uint8) mask
MASK_INDEXED = {
    aten.index.Tensor,
    aten.index_put.default,
    aten.index_put_.default,
    aten._index_put_impl_.default,
}


def is_sync(func, args) -> bool:
    if func in SYNC_OPS:
        return True
    if func in MASK_INDEXED:
        return any(i is not None and i.dtype in (torch.bool, torch.uint8) for i in args[1])
    return False


class SyncOpRecorder(TorchDispatchMode):
    """Records ``(tag, op, where)`` for every syncing op while ``active``, where = the
    innermost frame under one of ``roots`` (path fragments), or the innermost frame if none
    matches.

    ``active`` and ``tag`` can change without leaving the mode: a hook can switch recording
    on around the part of a step under test and tag it with the iteration.
    """

    def __init__(self, roots: tuple[str, ...] = ("vipseg/",)):
        super().__init__()
        self.roots, self.ops, self.active, self.tag = roots, [], True, None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if self.active and is_sync(func, args):
            stack = traceback.extract_stack()[:-1]
            ours = [f for f in stack if any(r in f.filename for r in self.roots)] or stack
            where = f"{ours[-1].filename}:{ours[-1].lineno}"
            self.ops.append((self.tag, str(func), where))
        return func(*args, **(kwargs or {}))
