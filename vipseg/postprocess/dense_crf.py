"""Fully connected CRF post-processing (Krähenbühl & Koltun 2011) with two backends."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from torch import nn

from vipseg.registry import MODELS

from .mean_field import dense_crf_torch

__all__ = ["DenseCRF"]

_BACKENDS = ("torch", "pydensecrf")
_PIP_HINT = "pip install pydensecrf2==1.1"


def _import_pydensecrf():
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as exc:  # also raised when sys.modules holds None for it
        raise ImportError(
            "DenseCRF(backend='pydensecrf') needs the optional dependency pydensecrf; install it "
            f"with `{_PIP_HINT}`, or use backend='torch'"
        ) from exc
    return dcrf


@MODELS.register_module()
class DenseCRF(nn.Module):
    """Refine one image's class probabilities with a fully connected (dense) CRF.

    Mean-field inference (Krähenbühl & Koltun, NeurIPS 2011) of a CRF over all pixel pairs with
    unary ``U = -log(probs)`` (probabilities clamped to ``>= 1e-8``), Potts compatibility and the
    pairwise kernel

    ``w1 exp(-|p_i - p_j|^2 / (2 theta_alpha^2) - |I_i - I_j|^2 / (2 theta_beta^2))``
    ``+ w2 exp(-|p_i - p_j|^2 / (2 theta_gamma^2))``

    (appearance + smoothness; ``p`` pixel positions, ``I`` RGB colours), run for ``iterations``
    mean-field steps starting from ``Q = softmax(-U)``.

    The defaults are DeepLab's published PASCAL VOC settings (``bi_w=4``, ``bi_xy_std=121``,
    ``bi_rgb_std=5``, ``pos_w=3``, ``pos_xy_std=3``; Chen et al., DeepLab, TPAMI 2017), tuned for
    images whose long side is about 500 px. The spatial widths ``theta_alpha`` and ``theta_gamma``
    are therefore given for an image of long side ``reference_size`` and scaled at call time by
    ``max(H, W) / reference_size`` (e.g. x4.1 for a 1024x2048 Cityscapes image);
    ``reference_size=None`` uses them as pixels. ``theta_beta`` (colour) is never scaled.

    Backends:

    * ``"torch"`` (default): a pure PyTorch permutohedral lattice (Adams, Baek & Davis 2010),
      :mod:`vipseg.postprocess.permutohedral`, and mean field,
      :mod:`vipseg.postprocess.mean_field`; runs on the device of ``probs`` (GPU-capable) and
      reproduces pydensecrf's mean field (same lattice, ``NORMALIZE_SYMMETRIC`` kernel
      normalisation, self term included, same message signs) up to float32 round-off.
    * ``"pydensecrf"``: Krähenbühl's C++ code through ``pydensecrf2`` (optional dependency,
      ``pip install pydensecrf2==1.1``); runs on the CPU (inputs are moved there and the result
      moved back).

    Args:
        backend: ``"torch"`` or ``"pydensecrf"``.
        iterations: number of mean-field iterations (>= 1).
        w1: weight of the appearance (bilateral) kernel (>= 0).
        theta_alpha: its spatial standard deviation, in pixels at ``reference_size``.
        theta_beta: its colour standard deviation, in 0..255 intensity units.
        w2: weight of the smoothness kernel (>= 0).
        theta_gamma: its spatial standard deviation, in pixels at ``reference_size``.
        reference_size: long image side the spatial thetas are given for; ``None``: pixels.

    Shape:
        - probs: float ``(C, H, W)`` class probabilities (softmax of the logits) of one image.
        - image: uint8 ``(3, H, W)`` RGB, on any device.
        - output: float32 ``(C, H, W)`` marginals ``Q`` (sum to 1 over ``C``), on probs' device.
    """

    PROB_FLOOR = 1e-8

    def __init__(
        self,
        backend: str = "torch",
        iterations: int = 5,
        w1: float = 4.0,
        theta_alpha: float = 121.0,
        theta_beta: float = 5.0,
        w2: float = 3.0,
        theta_gamma: float = 3.0,
        reference_size: int | None = 500,
    ):
        super().__init__()
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
        if isinstance(iterations, bool) or not isinstance(iterations, Integral) or iterations < 1:
            raise ValueError(f"iterations must be an integer >= 1, got {iterations!r}")
        for name, value in (("w1", w1), ("w2", w2)):
            if not _is_real(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name, value in (
            ("theta_alpha", theta_alpha),
            ("theta_beta", theta_beta),
            ("theta_gamma", theta_gamma),
        ):
            if not _is_real(value) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        if reference_size is not None and (
            isinstance(reference_size, bool)
            or not isinstance(reference_size, Integral)
            or reference_size < 1
        ):
            raise ValueError(
                f"reference_size must be a positive integer or None, got {reference_size!r}"
            )
        self.backend = backend
        self.iterations = int(iterations)
        self.w1 = float(w1)
        self.theta_alpha = float(theta_alpha)
        self.theta_beta = float(theta_beta)
        self.w2 = float(w2)
        self.theta_gamma = float(theta_gamma)
        self.reference_size = None if reference_size is None else int(reference_size)

    def spatial_thetas(self, height: int, width: int) -> tuple[float, float]:
        """``(theta_alpha, theta_gamma)`` in pixels for an image of this size."""
        if self.reference_size is None:
            return self.theta_alpha, self.theta_gamma
        scale = max(height, width) / self.reference_size
        return self.theta_alpha * scale, self.theta_gamma * scale

    def forward(self, probs: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        if not isinstance(probs, torch.Tensor) or probs.dim() != 3 or probs.shape[0] < 1:
            raise ValueError(f"probs must be a (C, H, W) tensor, got {_shape(probs)}")
        if not probs.is_floating_point():
            raise ValueError(f"probs must be floating point, got {probs.dtype}")
        c, h, w = probs.shape
        if not isinstance(image, torch.Tensor) or tuple(image.shape) != (3, h, w):
            raise ValueError(f"image must be a (3, {h}, {w}) tensor, got {_shape(image)}")
        if image.dtype != torch.uint8:
            raise ValueError(f"image must be uint8 RGB, got {image.dtype}")
        theta_alpha, theta_gamma = self.spatial_thetas(h, w)
        # In place after the clamp's copy: at image sizes every fresh (C, H, W) buffer costs
        # page faults comparable to the operation.
        unary = probs.detach().to(torch.float32).clamp(min=self.PROB_FLOOR).log_().neg_()
        if self.backend == "pydensecrf":
            q = self._pydensecrf(unary, image, theta_alpha, theta_gamma)
            return q.to(probs.device)
        return dense_crf_torch(
            unary,
            image.detach(),
            self.iterations,
            self.w1,
            theta_alpha,
            self.theta_beta,
            self.w2,
            theta_gamma,
        )

    def _pydensecrf(
        self, unary: torch.Tensor, image: torch.Tensor, theta_alpha: float, theta_gamma: float
    ) -> torch.Tensor:
        dcrf = _import_pydensecrf()
        c, h, w = unary.shape
        u = np.ascontiguousarray(unary.cpu().numpy().reshape(c, h * w), dtype=np.float32)
        rgb = np.ascontiguousarray(image.detach().cpu().permute(1, 2, 0).numpy(), dtype=np.uint8)
        crf = dcrf.DenseCRF2D(w, h, c)
        crf.setUnaryEnergy(u)
        crf.addPairwiseGaussian(sxy=theta_gamma, compat=self.w2)
        crf.addPairwiseBilateral(sxy=theta_alpha, srgb=self.theta_beta, rgbim=rgb, compat=self.w1)
        q = np.asarray(crf.inference(self.iterations), dtype=np.float32).reshape(c, h, w)
        return torch.from_numpy(np.ascontiguousarray(q))

    def extra_repr(self) -> str:
        return (
            f"backend={self.backend!r}, iterations={self.iterations}, w1={self.w1}, "
            f"theta_alpha={self.theta_alpha}, theta_beta={self.theta_beta}, w2={self.w2}, "
            f"theta_gamma={self.theta_gamma}, reference_size={self.reference_size}"
        )


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _shape(x) -> str:
    return str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__
