"""SyncBN where torch's cannot run: BN in one process, a gloo-capable SyncBN on CPU groups.

The configs use ``norm_cfg=dict(type='SyncBN')`` for multi-GPU training. In one process it has
nothing to synchronise with, and paths exist that mmengine's Runner does not cover:

* ``Runner.wrap_model`` reverts SyncBN when not distributed, but only logs it at INFO level
  (and logs it even when the model has no SyncBN at all), so the switch goes unnoticed.
* ``vipseg.apis.init_model``, tests and scripts build models without a Runner. torch's
  ``SyncBatchNorm`` then runs as plain BN while no process group exists, but once one exists
  (a gloo group on CPU) it raises "SyncBatchNorm expected input tensor to be on GPU".

So the segmentor adapts SyncBN when it is built (:func:`adapt_sync_bn`): outside a process
group it becomes BN, with one warning; in a gloo group (CPU DDP) it becomes
:class:`GlooSyncBatchNorm`, which synchronises the same statistics with collectives gloo runs;
in an NCCL group (GPUs) torch's ``SyncBatchNorm`` is kept. mmengine starts the group before it
builds the model, so the segmentor sees which case it is in.
"""

import logging

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class GlooSyncBatchNorm(_BatchNorm):
    """Batch norm over the batches of all ranks of a CPU (gloo) process group.

    torch's ``SyncBatchNorm`` refuses CPU tensors. In training this layer all-reduces the
    per-channel sum and sum of squared deviations with ``torch.distributed.nn`` collectives,
    which back-propagate, so ranks holding batches of b train exactly as one process with a
    batch of b x world size (``docs/reliability.md`` measures it). Eval mode, or no group,
    is plain BN. Built from a SyncBN layer by :func:`adapt_sync_bn`; any input of 2+ dims.
    """

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (N, C, ...), got {x.dim()}D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        group = dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        if not (self.training and group):
            return super().forward(x)
        dims = [d for d in range(x.dim()) if d != 1]
        count = x.new_tensor([x.numel() / x.size(1)])
        total = dist_fn.all_reduce(torch.cat([x.sum(dims), count]))
        n = total[-1]
        mean = total[:-1] / n
        shape = [1, -1] + [1] * (x.dim() - 2)
        centred = x - mean.view(shape)
        var = dist_fn.all_reduce((centred * centred).sum(dims)) / n  # biased, as BN normalises
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach() * n / (n - 1))
        out = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, unbiased_var: torch.Tensor) -> None:
        self.num_batches_tracked += 1
        # momentum None: a cumulative average, as in torch's BN.
        m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.mul_(1 - m).add_(m * mean)
        self.running_var.mul_(1 - m).add_(m * unbiased_var)

    @classmethod
    def from_sync_bn(cls, layer: nn.SyncBatchNorm) -> "GlooSyncBatchNorm":
        new = cls(layer.num_features, layer.eps, layer.momentum, layer.affine)
        new.track_running_stats = layer.track_running_stats
        new.load_state_dict(layer.state_dict(), strict=False)
        if layer.running_mean is None:
            new.running_mean = new.running_var = new.num_batches_tracked = None
        new.train(layer.training)
        return new


def _convert_for_gloo(module: nn.Module) -> tuple[nn.Module, int]:
    if isinstance(module, nn.SyncBatchNorm):
        return GlooSyncBatchNorm.from_sync_bn(module), 1
    count = 0
    for name, child in module.named_children():
        new, n = _convert_for_gloo(child)
        count += n
        if new is not child:
            setattr(module, name, new)
    return module, count


def adapt_sync_bn(model: nn.Module) -> nn.Module:
    """``model`` with every ``nn.SyncBatchNorm`` made runnable where it is built.

    No process group: BN, with one WARNING naming the count. A gloo group (CPU DDP):
    :class:`GlooSyncBatchNorm`, with one INFO line. Otherwise (NCCL) unchanged. Returns the
    (possibly new) module: a model that *is* a SyncBN layer comes back as a new layer.
    """
    if dist.is_available() and dist.is_initialized():
        if dist.get_backend() != "gloo":
            return model
        model, count = _convert_for_gloo(model)
        if count:
            print_log(
                f"vipseg: gloo process group: {count} SyncBN layer(s) of "
                f"{type(model).__name__} synchronise through GlooSyncBatchNorm",
                logger="current",
                level=logging.INFO,
            )
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
