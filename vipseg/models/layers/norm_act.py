"""How vipseg's modules build norm (+ activation) layers from a ``norm_cfg``.

Two things mmcv's ``build_norm_layer`` / ``ConvModule`` do not handle on their own:

* Scope: mmcv looks a string ``type`` up in the *default scope's* registry, so
  ``dict(type='EvoNormS0')`` fails when no default scope is set (a script that builds a model
  without ``register_all_modules()``). :func:`resolve_norm_cfg` resolves the name in vipseg's
  ``MODELS`` (which falls back to mmcv's BN/SyncBN/GN/IN/LN) and passes the class on, which
  mmcv accepts, so vipseg's modules build the same with or without a default scope.
* Fused norm-activation layers (EvoNorm, class attribute ``fuses_activation = True``) already
  contain the non-linearity; a ReLU after them would change the layer the paper defines.
  :func:`act_cfg_for` gives ``ConvModule`` no activation for them, and :func:`build_norm_act`
  gives hand-written blocks (ResNet) an ``nn.Identity`` where they would apply a ReLU.
"""

import torch
from torch import nn

from vipseg.registry import MODELS


def resolve_norm_cfg(norm_cfg: dict) -> dict:
    """A copy of ``norm_cfg`` whose ``type`` is the registered class, not its name."""
    if not isinstance(norm_cfg, dict) or "type" not in norm_cfg:
        raise ValueError(f"norm_cfg must be a dict with a 'type' key, got {norm_cfg!r}")
    layer_type = norm_cfg["type"]
    if isinstance(layer_type, str):
        layer_type = MODELS.get(layer_type)  # a miss raises a KeyError listing the names
    return dict(norm_cfg, type=layer_type)


def fuses_activation(norm_cfg: dict | None) -> bool:
    """Whether the norm layer of ``norm_cfg`` carries its own activation (EvoNorm)."""
    if norm_cfg is None:
        return False
    return bool(getattr(resolve_norm_cfg(norm_cfg)["type"], "fuses_activation", False))


def act_cfg_for(norm_cfg: dict | None, act_cfg: dict | None) -> dict | None:
    """The ``act_cfg`` to give a ``ConvModule`` with ``norm_cfg``: None for EvoNorm.

    Args:
        norm_cfg: the module's norm config.
        act_cfg: the activation the caller asked for; None means the default ReLU.

    Raises:
        ValueError: an explicit ``act_cfg`` together with a fused norm-activation layer, which
            would otherwise be dropped without a word.
    """
    if not fuses_activation(norm_cfg):
        return act_cfg or dict(type="ReLU")
    if act_cfg is not None:
        raise ValueError(
            f"act_cfg={act_cfg!r} cannot be combined with norm_cfg type "
            f"{norm_cfg['type']!r}: that layer is a norm and an activation in one; "
            "leave act_cfg unset"
        )
    return None


def build_norm_act(
    norm_cfg: dict, num_features: int, activation: bool
) -> tuple[nn.Module, nn.Module]:
    """``(norm, act)`` for a hand-written ``act(norm(x))``.

    Args:
        norm_cfg: any norm config (resolved here, so no default scope is needed).
        num_features: channels of the normalised tensor.
        activation: whether a ReLU follows the norm. For a plain norm, ``act`` is a ReLU or
            ``nn.Identity``; for a fused layer (EvoNorm), ``act`` is always ``nn.Identity``
            and ``activation`` selects the layer's non-linear variant instead.
    """
    from mmcv.cnn import build_norm_layer

    cfg = resolve_norm_cfg(norm_cfg)
    if fuses_activation(cfg):
        return build_norm_layer(dict(cfg, nonlinear=activation), num_features)[1], nn.Identity()
    act = nn.ReLU(inplace=True) if activation else nn.Identity()
    return build_norm_layer(cfg, num_features)[1], act


def is_instance_norm(norm_cfg: dict | None) -> bool:
    """Whether ``norm_cfg`` normalises each sample and channel over (H, W) alone (IN).

    Such a layer maps a 1x1 map to its bias (and raises in training), so a global-pooling
    branch cannot use it.
    """
    if norm_cfg is None:
        return False
    layer_type = resolve_norm_cfg(norm_cfg)["type"]
    return isinstance(layer_type, type) and issubclass(
        layer_type, torch.nn.modules.instancenorm._InstanceNorm
    )
