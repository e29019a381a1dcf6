"""EvoNorm-B0 and EvoNorm-S0 (Liu et al. 2020, "Evolving Normalization-Activation Layers",
arXiv 2004.02967): one layer that replaces a norm layer *and* the activation after it.

Both are registered in vipseg's ``MODELS``, so ``norm_cfg=dict(type='EvoNormS0', groups=8)``
works wherever mmcv's ``build_norm_layer`` runs in the ``vipseg`` scope. Because they carry
their own non-linearity, the layers building them must not add a ReLU afterwards; see
:mod:`vipseg.models.layers.norm_act` and ``docs/normalization.md``.
"""

import torch
from torch import nn

from vipseg.registry import MODELS


class _EvoNorm2d(nn.Module):
    """Shared parameters: per-channel ``weight`` (gamma, 1), ``bias`` (beta, 0) and ``v1`` (1).

    The affine parameters are named ``weight`` and ``bias`` so mmcv's ``ConvModule`` and the
    backbones' ``init_cfg`` initialise them like a BatchNorm's.
    """

    # Read by vipseg.models.layers.norm_act: this layer replaces norm + activation.
    fuses_activation = True
    _abbr_ = "evonorm"  # mmcv's build_norm_layer names the sub-module after this

    def __init__(self, num_features: int, eps: float, nonlinear: bool):
        super().__init__()
        if num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be >= 1")
        self.num_features = num_features
        self.eps = eps
        self.nonlinear = nonlinear
        shape = (1, num_features, 1, 1)
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))
        # v1 only enters the non-linear variant; without it no unused parameter exists (DDP).
        self.v1 = nn.Parameter(torch.ones(shape)) if nonlinear else None

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__} expects (N, {self.num_features}, H, W), "
                f"got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, nonlinear={self.nonlinear}"


@MODELS.register_module()
class EvoNormB0(_EvoNorm2d):
    """EvoNorm-B0, the batch-dependent variant::

        y = x / max(sqrt(var_batch(x) + eps), v1 * x + sqrt(var_instance(x) + eps))
            * gamma + beta

    ``var_batch`` is per channel over (N, H, W), ``var_instance`` per sample and channel over
    (H, W), both biased. In eval mode ``var_batch`` is the running estimate, an exponential
    average (``momentum``) of the same biased batch variance training divides by.

    Args:
        num_features: channels C of the (N, C, H, W) input.
        eps: added to both variances.
        momentum: weight of the newest batch in the running variance.
        nonlinear: False drops the ``v1 * x`` term (v1 = 0), for places where the replaced
            norm had no activation after it (the last norm of a residual block).
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, nonlinear: bool = True
    ):
        super().__init__(num_features, eps, nonlinear)
        self.momentum = momentum
        self.register_buffer("running_var", torch.ones(1, num_features, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        if self.training:
            var_batch = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
            with torch.no_grad():
                self.running_var.lerp_(var_batch.detach(), self.momentum)
        else:
            var_batch = self.running_var
        denominator = (var_batch + self.eps).sqrt()
        instance_std = (x.var(dim=(2, 3), unbiased=False, keepdim=True) + self.eps).sqrt()
        second = self.v1 * x + instance_std if self.nonlinear else instance_std
        return x / torch.maximum(denominator, second) * self.weight + self.bias


@MODELS.register_module()
class EvoNormS0(_EvoNorm2d):
    """EvoNorm-S0, the batch-independent variant::

        y = x * sigmoid(v1 * x) / sqrt(var_group(x) + eps) * gamma + beta

    ``var_group`` is per sample over each group of C / ``groups`` channels and (H, W),
    biased, as in GroupNorm (but without subtracting the mean from ``x``).

    Args:
        num_features: channels C of the (N, C, H, W) input; divisible by ``groups``.
        groups: number of channel groups.
        eps: added to the group variance.
        nonlinear: False drops the ``sigmoid(v1 * x)`` gate, for places where the replaced
            norm had no activation after it (the last norm of a residual block).
    """

    def __init__(
        self, num_features: int, groups: int = 32, eps: float = 1e-5, nonlinear: bool = True
    ):
        super().__init__(num_features, eps, nonlinear)
        if groups < 1 or num_features % groups:
            raise ValueError(f"EvoNormS0: groups={groups} must divide num_features={num_features}")
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        n, c, h, w = x.shape
        grouped = x.reshape(n, self.groups, c // self.groups * h * w)
        var = grouped.var(dim=2, unbiased=False, keepdim=True)
        std = (var + self.eps).sqrt().repeat_interleave(c // self.groups, dim=1)
        std = std.reshape(n, c, 1, 1)
        numerator = x * torch.sigmoid(self.v1 * x) if self.nonlinear else x
        return numerator / std * self.weight + self.bias

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, groups={self.groups}"
