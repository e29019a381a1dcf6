"""ResNet (He et al. 2016) with the V1c deep stem and dilation for output stride 8 or 16."""

from collections.abc import Sequence

import torch
from mmcv.cnn import build_conv_layer
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from vipseg.models.layers.norm_act import build_norm_act, resolve_norm_cfg
from vipseg.registry import MODELS


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int,
        dilation: int,
        downsample: nn.Module | None,
        conv_cfg: dict | None,
        norm_cfg: dict,
    ):
        super().__init__()
        self.conv1 = build_conv_layer(
            conv_cfg,
            inplanes,
            planes,
            3,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            bias=False,
        )
        # act1 is a ReLU, or nn.Identity after a norm-activation layer such as EvoNorm.
        self.bn1, self.act1 = build_norm_act(norm_cfg, planes, activation=True)
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=1, bias=False)
        self.bn2 = build_norm_act(norm_cfg, planes, activation=False)[0]
        self.relu = nn.ReLU(inplace=True)  # after the residual addition
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 - 3x3 - 1x1 bottleneck; the stride sits on the 3x3 conv (ResNet-50/101)."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int,
        dilation: int,
        downsample: nn.Module | None,
        conv_cfg: dict | None,
        norm_cfg: dict,
    ):
        super().__init__()
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 1, bias=False)
        # act1/act2 are ReLUs, or nn.Identity after a norm-activation layer such as EvoNorm.
        self.bn1, self.act1 = build_norm_act(norm_cfg, planes, activation=True)
        self.conv2 = build_conv_layer(
            conv_cfg,
            planes,
            planes,
            3,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            bias=False,
        )
        self.bn2, self.act2 = build_norm_act(norm_cfg, planes, activation=True)
        self.conv3 = build_conv_layer(conv_cfg, planes, planes * 4, 1, bias=False)
        self.bn3 = build_norm_act(norm_cfg, planes * 4, activation=False)[0]
        self.relu = nn.ReLU(inplace=True)  # after the residual addition
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.act2(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


@MODELS.register_module()
class ResNet(BaseModule):
    """ResNet backbone returning the outputs of the stages in ``out_indices``.

    Args:
        depth: 18, 34, 50 or 101.
        in_channels: input image channels.
        base_channels: width of the first stage (64 in the paper); later stages double it.
        stem_channels: width of the stem.
        deep_stem: the V1c stem (three 3x3 convs instead of one 7x7), as DeepLab uses.
        strides, dilations: per stage; ``(1, 2, 1, 1)`` / ``(1, 1, 2, 4)`` gives output
            stride 8, ``(1, 2, 2, 1)`` / ``(1, 1, 1, 2)`` output stride 16.
        out_indices: which stages to return.
        frozen_stages: stages (and the stem, for >= 0) with frozen weights and BN; -1 none.
        norm_eval: keep BN layers in eval mode while training (for fine-tuning small batches).
        contract_dilation: the first block of a dilated stage uses half the dilation, as in
            DeepLab, so the receptive field grows smoothly.
        conv_cfg, norm_cfg: mmcv layer configs: ``dict(type='BN')``, ``'SyncBN'``,
            ``dict(type='GN', num_groups=32)``, ``'IN'``, or the norm-activation layers
            ``dict(type='EvoNormB0')`` / ``dict(type='EvoNormS0', groups=32)``, which take
            the place of the ReLU after each norm (docs/normalization.md).
        init_cfg: mmengine init config, e.g. ``dict(type='Pretrained', checkpoint=path)``.
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
    }

    def __init__(
        self,
        depth: int,
        in_channels: int = 3,
        base_channels: int = 64,
        stem_channels: int = 64,
        deep_stem: bool = True,
        strides: Sequence[int] = (1, 2, 1, 1),
        dilations: Sequence[int] = (1, 1, 2, 4),
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        contract_dilation: bool = True,
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        init_cfg: dict | list[dict] | None = None,
    ):
        if depth not in self.arch_settings:
            raise ValueError(
                f"ResNet depth must be one of {sorted(self.arch_settings)}, got {depth}"
            )
        if len(strides) != 4 or len(dilations) != 4:
            raise ValueError(f"strides and dilations need 4 entries, got {strides}, {dilations}")
        if init_cfg is None:
            init_cfg = [
                dict(type="Kaiming", layer="Conv2d"),
                dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"]),
            ]
        super().__init__(init_cfg=init_cfg)
        self.depth = depth
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv_cfg = conv_cfg
        self.norm_cfg = resolve_norm_cfg(norm_cfg or dict(type="BN", requires_grad=True))
        block, stage_blocks = self.arch_settings[depth]
        self._make_stem(in_channels, stem_channels, deep_stem)
        inplanes = stem_channels
        self.res_layers = []
        for i, num_blocks in enumerate(stage_blocks):
            planes = base_channels * 2**i
            layer = self._make_layer(
                block, inplanes, planes, num_blocks, strides[i], dilations[i], contract_dilation
            )
            inplanes = planes * block.expansion
            name = f"layer{i + 1}"
            self.add_module(name, layer)
            self.res_layers.append(name)
        self.feat_channels = tuple(base_channels * 2**i * block.expansion for i in range(4))
        self._freeze_stages()

    def _make_stem(self, in_channels: int, stem_channels: int, deep_stem: bool) -> None:
        if deep_stem:
            widths = (in_channels, stem_channels // 2, stem_channels // 2, stem_channels)
            layers = []
            for i in range(3):
                layers += [
                    build_conv_layer(
                        self.conv_cfg,
                        widths[i],
                        widths[i + 1],
                        3,
                        stride=2 if i == 0 else 1,
                        padding=1,
                        bias=False,
                    ),
                    *build_norm_act(self.norm_cfg, widths[i + 1], activation=True),
                ]
            self.stem = nn.Sequential(*layers)
        else:
            self.stem = nn.Sequential(
                build_conv_layer(
                    self.conv_cfg, in_channels, stem_channels, 7, stride=2, padding=3, bias=False
                ),
                *build_norm_act(self.norm_cfg, stem_channels, activation=True),
            )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _make_layer(
        self,
        block: type[nn.Module],
        inplanes: int,
        planes: int,
        num_blocks: int,
        stride: int,
        dilation: int,
        contract_dilation: bool,
    ) -> nn.Sequential:
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                build_conv_layer(
                    self.conv_cfg, inplanes, planes * block.expansion, 1, stride=stride, bias=False
                ),
                build_norm_act(self.norm_cfg, planes * block.expansion, activation=False)[0],
            )
        first_dilation = dilation // 2 if contract_dilation and dilation > 1 else dilation
        layers = [
            block(
                inplanes, planes, stride, first_dilation, downsample, self.conv_cfg, self.norm_cfg
            )
        ]
        for _ in range(1, num_blocks):
            layers.append(
                block(
                    planes * block.expansion,
                    planes,
                    1,
                    dilation,
                    None,
                    self.conv_cfg,
                    self.norm_cfg,
                )
            )
        return nn.Sequential(*layers)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        modules = [self.stem] + [
            getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1)
        ]
        for module in modules:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool(self.stem(x))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> "ResNet":
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
