"""bf16 mixed precision without a loss scaler, so without a host-device sync per step."""

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from vipseg.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class SegAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward pass runs under bf16 autocast (``tools/train.py --amp``).

    mmengine's ``AmpOptimWrapper`` always adds a ``GradScaler``: needed for fp16, whose range
    underflows small gradients, but not for bf16, which has fp32's exponent range; and the
    scaler reads ``found_inf`` back to the host on every step, a sync that stalls the GPU.
    Here autocast alone: the parameters, gradients and optimizer state stay fp32, matmuls and
    convolutions run in bf16, losses in fp32 (autocast's policy for ``cross_entropy``). Runs
    on CUDA and, slowly on CPUs without bf16 units, on CPU.

    Args: as ``OptimWrapper``'s (``optimizer``, ``accumulative_counts``, ``clip_grad``).
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device, dtype=torch.bfloat16):
            yield
