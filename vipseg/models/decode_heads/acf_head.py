"""ACFNet's head: ASPP, a coarse prediction, and the Attentional Class Feature module.

Zhang et al., "ACFNet: Attentional Class Feature Network for Semantic Segmentation", ICCV 2019
(arXiv 1909.09408).
"""

from collections.abc import Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import ModuleList
from torch import nn

from vipseg.models.utils import resize, stack_gt
from vipseg.registry import MODELS

from .aspp_head import ASPPHead


def class_centers(probs: torch.Tensor, feats: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Per image, the probability-weighted mean feature of each class.

    ``probs`` (N, K, h, w) and ``feats`` (N, C, h, w) -> centres (N, K, C):
    ``center[n, k] = sum_p probs[n, k, p] * feats[n, :, p] / sum_p probs[n, k, p]``.
    """
    probs = probs.flatten(2)
    weighted = torch.bmm(probs, feats.flatten(2).transpose(1, 2))
    return weighted / probs.sum(dim=2, keepdim=True).clamp_min(eps)


def attentional_class_feature(probs: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Each pixel's mixture of class centres: (N, K, h, w), (N, K, C) -> (N, C, h, w)."""
    n, k, h, w = probs.shape
    mixed = torch.bmm(centers.transpose(1, 2), probs.reshape(n, k, h * w))
    return mixed.reshape(n, -1, h, w)


@MODELS.register_module()
class ACFHead(ASPPHead):
    """ASPP features F, a coarse prediction from F, and a fine prediction from [F, A].

    The ACF module projects F to ``acf_channels`` (F'), takes each class's centre as the mean of
    F' weighted by the coarse softmax P_coarse (per image), and gives every pixel the mixture
    ``A(p) = sum_c P_coarse(c, p) * center_c``. A 1x1 ConvModule fuses the concatenation [F, A]
    and the shared classifier (``conv_seg``) gives the fine logits.

    Gradients flow through P_coarse into the centres and the mixture by default: the paper
    trains the whole network end to end with the coarse map supervised and describes no
    stop-gradient on it, so the fine loss also shapes the coarse probabilities.
    ``detach_coarse=True`` stops that path (an ablation switch, not the paper's setting).

    Losses: the paper sums the auxiliary, coarse and fine cross entropies with weights; we
    recall them as 0.4 (auxiliary), 0.6 (coarse) and 0.7 (fine) from its implementation
    details, but could not re-read the text while writing this: check before quoting. The
    configs use those values; the auxiliary weight lives on the segmentor's auxiliary head.

    Shapes: ``forward(feats)`` reads ``feats[in_index]`` (N, in_channels, h, w) and returns
    fine logits (N, num_classes, h, w); ``forward_coarse_fine`` returns (coarse, fine) logits.
    ``loss`` returns the fine losses under the ``loss_decode`` names plus ``acc_seg`` and the
    coarse ones as ``coarse_<loss_name>``; ``predict`` uses the fine logits only.

    Args:
        acf_channels: width of F' and hence of the class centres and A.
        coarse_loss_decode: loss config(s) of the coarse prediction (default cross entropy,
            weight 0.6).
        detach_coarse: stop gradients from the ACF module into P_coarse.
        See :class:`ASPPHead` and :class:`BaseDecodeHead` for the rest.
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        *,
        num_classes: int,
        acf_channels: int = 256,
        dilations: Sequence[int] = (1, 6, 12, 18),
        coarse_loss_decode: dict | Sequence[dict] | None = None,
        detach_coarse: bool = False,
        in_index: int = -1,
        dropout_ratio: float = 0.1,
        conv_cfg: dict | None = None,
        norm_cfg: dict | None = None,
        act_cfg: dict | None = None,
        loss_decode: dict | Sequence[dict] | None = None,
        ignore_index: int = 255,
        align_corners: bool = False,
        init_cfg: dict | list[dict] | None = None,
    ):
        if init_cfg is None:
            override = [dict(name="conv_seg"), dict(name="conv_coarse")]
            init_cfg = dict(type="Normal", std=0.01, override=override)
        super().__init__(
            in_channels,
            channels,
            num_classes=num_classes,
            dilations=dilations,
            in_index=in_index,
            dropout_ratio=dropout_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            loss_decode=loss_decode,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg,
        )
        if coarse_loss_decode is None:
            coarse_loss_decode = dict(type="CrossEntropyLoss", loss_weight=0.6)
        configs = (
            [coarse_loss_decode]
            if isinstance(coarse_loss_decode, dict)
            else list(coarse_loss_decode)
        )
        self.coarse_loss_decode = ModuleList(MODELS.build(cfg) for cfg in configs)
        self.detach_coarse = detach_coarse
        layer = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.conv_coarse = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.acf_project = ConvModule(channels, acf_channels, 1, **layer)
        self.acf_fuse = ConvModule(channels + acf_channels, channels, 1, **layer)

    def forward_coarse_fine(
        self, inputs: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Coarse and fine logits, both (N, num_classes, h, w)."""
        feats = self._forward_feature(inputs)
        coarse = self.conv_coarse(self.dropout(feats))
        probs = coarse.softmax(dim=1)
        if self.detach_coarse:
            probs = probs.detach()
        projected = self.acf_project(feats)
        attention = attentional_class_feature(probs, class_centers(probs, projected))
        fused = self.acf_fuse(torch.cat([feats, attention], dim=1))
        return coarse, self.conv_seg(self.dropout(fused))

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.forward_coarse_fine(inputs)[1]

    def loss(self, inputs: Sequence[torch.Tensor], data_samples: Sequence) -> dict:
        """Fine losses (``loss_decode``, ``acc_seg``) plus ``coarse_<loss_name>`` terms."""
        coarse, fine = self.forward_coarse_fine(inputs)
        losses = self.loss_by_feat(fine, data_samples)
        label = stack_gt(data_samples)
        coarse = resize(coarse, label.shape[-2:], align_corners=self.align_corners)
        for loss_module in self.coarse_loss_decode:
            name = f"coarse_{loss_module.loss_name}"
            value = loss_module(coarse, label)
            losses[name] = losses[name] + value if name in losses else value
        return losses
