"""SyncBN outside a process group: revert to BN, with one warning.

The configs use ``norm_cfg=dict(type='SyncBN')`` for multi-GPU training. In one process it has
nothing to synchronise with, and paths exist that mmengine's Runner does not cover:

* ``Runner.wrap_model`` reverts SyncBN when not distributed, but only logs it at INFO level
  (and logs it even when the model has no SyncBN at all), so the switch goes unnoticed.
* ``vipseg.apis.init_model``, tests and scripts build models without a Runner. torch's
  ``SyncBatchNorm`` then runs as plain BN while no process group exists, but once one exists
  (a gloo group on CPU) it raises "SyncBatchNorm expected input tensor to be on GPU".

So the segmentor reverts SyncBN when it is built outside a process group (in a distributed run
mmengine starts the group before it builds the model, so SyncBN is kept there), and says so
once per model.
"""

import logging

import torch.distributed as dist
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from torch import nn


def revert_sync_bn_if_single_process(model: nn.Module) -> nn.Module:
    """``model`` with every ``nn.SyncBatchNorm`` turned into BN when no process group exists.

    Logs one WARNING with the number of layers reverted; does nothing (and logs nothing) in a
    distributed run or when the model has no SyncBN. Returns the (possibly new) module: a
    model that *is* a SyncBN layer comes back as a new BN layer.
    """
    if dist.is_available() and dist.is_initialized():
        return model
    count = sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
    if count == 0:
        return model
    model = revert_sync_batchnorm(model)
    print_log(
        f"vipseg: no distributed process group: {count} SyncBN layer(s) of "
        f"{type(model).__name__} run as BN (SyncBN needs a distributed, multi-GPU run)",
        logger="current",
        level=logging.WARNING,
    )
    return model
