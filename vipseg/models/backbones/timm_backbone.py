"""Any timm model with a feature-pyramid mode as a vipseg backbone (timm is optional)."""

from collections.abc import Sequence

import torch
from mmengine.model import BaseModule

from vipseg.registry import MODELS

INSTALL_HINT = "pip install timm  (or: pip install -e '.[timm]')"


def _import_timm():
    # Imported here, not at module level: vipseg must import and register without timm.
    try:
        import timm
    except ImportError as err:
        raise ImportError(
            f"TimmBackbone needs the optional dependency timm; install it with: {INSTALL_HINT}"
        ) from err
    return timm


@MODELS.register_module()
class TimmBackbone(BaseModule):
    """``timm.create_model(model_name, features_only=True, ...)`` returning a tuple of maps.

    Args:
        model_name: a timm model name, e.g. ``'resnet50'``, ``'efficientnet_b0'``,
            ``'convnext_tiny'`` (``timm.list_models()`` lists them).
        out_indices: which of the model's feature levels to return (timm numbers them from the
            stem, 0, to the last stage; ResNets have levels 0-4 at strides 2, 4, 8, 16, 32).
        output_stride: 8 or 16 dilates the last stages instead of striding them, as DeepLab
            needs; only models built with dilation support take it (ResNets, EfficientNets,
            ...); None keeps the model's own stride (32).
        pretrained: False by default and in every vipseg config: the VIPriors challenges
            train from scratch, and True downloads ImageNet weights from the Hugging Face hub.
        in_channels: input image channels (timm's ``in_chans``).
        norm_layer: one of timm's norm names (``'batchnorm2d'``, ``'groupnorm'``,
            ``'frozenbatchnorm2d'``, ``'layernorm2d'``, ...) for models that take
            ``norm_layer``; None keeps the model's default (BatchNorm for CNNs). For SyncBN
            in multi-GPU runs convert the built model (mmengine's ``sync_bn='torch'``
            config key).
        drop_path_rate: stochastic depth rate for models that support it.
        init_cfg: mmengine init config; None leaves timm's own initialisation.

    Attributes:
        out_channels: channels of each returned map, in ``out_indices`` order.
        strides: the input-to-map reduction of each returned map.

    Shapes: ``forward(x)`` maps (N, in_channels, H, W) to a tuple of
    (N, out_channels[i], H / strides[i], W / strides[i]).
    """

    def __init__(
        self,
        model_name: str,
        out_indices: Sequence[int] = (1, 2, 3, 4),
        output_stride: int | None = None,
        pretrained: bool = False,
        in_channels: int = 3,
        norm_layer: str | None = None,
        drop_path_rate: float = 0.0,
        init_cfg: dict | list[dict] | None = None,
    ):
        super().__init__(init_cfg=init_cfg)
        timm = _import_timm()
        if not timm.is_model(model_name):
            raise ValueError(
                f"TimmBackbone.model_name={model_name!r} is not a timm {timm.__version__} "
                "model; timm.list_models('pattern*') lists the names"
            )
        # Only the options that were set go to timm: models that lack one reject it.
        optional = dict(output_stride=output_stride, norm_layer=norm_layer)
        optional = {k: v for k, v in optional.items() if v is not None}
        if drop_path_rate:
            optional["drop_path_rate"] = drop_path_rate
        try:
            self.model = timm.create_model(
                model_name,
                features_only=True,
                pretrained=pretrained,
                out_indices=tuple(out_indices),
                in_chans=in_channels,
                **optional,
            )
        except (TypeError, IndexError) as err:
            raise ValueError(
                f"TimmBackbone({model_name!r}) rejected out_indices={tuple(out_indices)} or "
                f"one of {sorted(optional)}: {err}"
            ) from err
        self.out_channels = tuple(self.model.feature_info.channels())
        self.strides = tuple(self.model.feature_info.reduction())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.model(x))
