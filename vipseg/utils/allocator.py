"""Keep freed memory in the process heap instead of handing it back to the OS.

glibc serves allocations above ``M_MMAP_THRESHOLD`` (at most 32 MiB by its own dynamic
rule) with fresh ``mmap`` pages and unmaps them on free. A CPU training step allocates and
frees logits and their gradients of 40 MiB or more every iteration (8 x 19 x 256 x 256
float32), so every step page-faults and zeroes them again. Measured on a 2-core CPU with
``configs/deeplabv3_r18_toycity.py``: 0.70 -> 0.59 s/iter, system time 10.8 -> 2.4 s over 40
iterations (see docs/benchmarks.md). The price is a resident size that stays at its peak.
"""

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ONE_GIB = 1 << 30


def keep_freed_memory(limit: int = _ONE_GIB) -> bool:
    """Raise glibc's mmap and trim thresholds to ``limit`` bytes; False where not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, limit)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))
