"""Dense-CRF mean-field inference on permutohedral lattices, in pure PyTorch.

The ``backend="torch"`` of :class:`vipseg.postprocess.DenseCRF`, following Krähenbühl's
``densecrf`` (as wrapped by ``pydensecrf``, ``DenseCRF2D``, ``NORMALIZE_SYMMETRIC``, Potts
compatibility): ``Q = softmax(-U)``, then per iteration
``Q = softmax(-U + sum_k w_k n_k * K_k(n_k * Q))`` with ``n_k = 1/sqrt(K_k(1) + 1e-20)`` and
``K_k`` the lattice filter of :class:`~vipseg.postprocess.permutohedral.PermutohedralLattice`.
This is densecrf's Potts message (``-w * filtered Q`` subtracted from the energy), which differs
from the textbook Potts penalty only by a per-pixel constant that the softmax removes.

On the CPU each iteration is fused: ``n_k`` and ``w_k`` are folded into the splat and slice
weights once, every kernel is splatted and blurred, and then the energy and the softmax are
computed one chunk of rows at a time, straight into ``Q``. At image sizes an ``(N, C)`` tensor
(40 MB at 512x1024 x 19) is above glibc's mmap threshold, so every fresh one costs page faults
that can exceed the arithmetic on it; the fused loop allocates none per iteration and keeps
each chunk's energy in cache. Elsewhere the iteration runs through ``filter`` in reused
buffers, with no host-device synchronisation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import permutohedral
from .permutohedral import PermutohedralLattice

__all__ = ["dense_crf_mean_field", "dense_crf_torch"]


def dense_crf_mean_field(
    unary: torch.Tensor,
    kernels: list[tuple[PermutohedralLattice, torch.Tensor, float]],
    iterations: int,
) -> torch.Tensor:
    """densecrf's mean-field inference with Potts compatibilities.

    Args:
        unary: float32 ``(N, C)`` unary energies ``U``.
        kernels: ``(lattice, norm, weight)`` per pairwise term, ``norm`` ``(N, 1)`` from
            :meth:`PermutohedralLattice.symmetric_norm`, applied in this order.
        iterations: number of mean-field updates.

    Returns:
        float32 ``(N, C)`` marginals ``Q``.
    """
    return _mean_field(torch.neg(unary.to(torch.float32)), kernels, iterations)


def _mean_field(neg_unary: torch.Tensor, kernels, iterations: int) -> torch.Tensor:
    q = torch.softmax(neg_unary, dim=1)
    if neg_unary.device.type == "cpu" and all(lat.uses_bags for lat, _, _ in kernels):
        return _mean_field_bags(neg_unary, q, kernels, iterations)
    # (N, C) buffers allocated once: a fresh one per operation costs more than the arithmetic.
    energy, scaled, filtered = (torch.empty_like(q) for _ in range(3))
    for _ in range(iterations):
        energy.copy_(neg_unary)
        for lattice, norm, weight in kernels:
            lattice.filter(torch.mul(q, norm, out=scaled), out=filtered)
            energy.addcmul_(filtered, norm, value=weight)
        torch.softmax(energy, dim=1, out=q)
    return q


def _bag_sum(table: torch.Tensor, rows, starts, weights) -> torch.Tensor:
    return F.embedding_bag(rows, table, starts, mode="sum", per_sample_weights=weights)


def _mean_field_bags(neg_unary, q, kernels, iterations) -> torch.Tensor:
    """The fused CPU iteration (module docstring); updates and returns ``q``."""
    ops = []
    for lattice, norm, weight in kernels:
        (rows, starts, splat_w), blurs, (slice_rows, _, slice_w) = lattice.bag_operators()
        norm = norm.reshape(-1).to(torch.float32)
        # K(n q) splats q with n folded in; w n K(...) slices with w n folded in.
        splat = (rows, starts, splat_w * norm.index_select(0, rows))
        slice_ = (slice_rows, slice_w * (norm * weight)[:, None])
        ops.append((splat, blurs, slice_))
    n, c = q.shape
    chunk = max(1, permutohedral.SLICE_CHUNK_FLOATS // c)
    for _ in range(iterations):
        lattices = []
        for splat, blurs, _ in ops:
            values = _bag_sum(q, *splat)
            for blur in blurs:
                values = _bag_sum(values, *blur)
            lattices.append(values)
        # Every kernel has read q: it can now be overwritten, chunk by chunk.
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            energy = neg_unary[a:b].clone()
            for values, (_, _, (rows, weights)) in zip(lattices, ops):
                energy += _bag_sum(values, rows[a:b], None, weights[a:b])
            torch.softmax(energy, dim=1, out=q[a:b])
    return q


def dense_crf_torch(
    unary: torch.Tensor,
    image: torch.Tensor,
    iterations: int,
    w1: float,
    theta_alpha: float,
    theta_beta: float,
    w2: float,
    theta_gamma: float,
) -> torch.Tensor:
    """Dense CRF of one image with pixel thetas; ``unary`` ``(C, H, W)``, ``image`` ``(3, H, W)``.

    Builds the smoothness lattice (``[x, y] / theta_gamma``, d=2) and the appearance lattice
    (``[x, y] / theta_alpha`` and ``[r, g, b] / theta_beta``, d=5) once, in densecrf's feature
    order, then runs :func:`dense_crf_mean_field` (smoothness term first, as pydensecrf's
    ``addPairwiseGaussian`` before ``addPairwiseBilateral``). Returns float32 ``(C, H, W)``.
    """
    c, h, w = unary.shape
    dev = unary.device
    n = h * w
    f32 = torch.float32

    def _div(x: torch.Tensor, s: float) -> torch.Tensor:
        # Division by a float32 tensor, like densecrf's `i / sx` (no reciprocal shortcut).
        return x / torch.full_like(x, s)

    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=f32, device=dev),
        torch.arange(w, dtype=f32, device=dev),
        indexing="ij",
    )
    xs, ys = xs.reshape(n), ys.reshape(n)
    smooth = PermutohedralLattice(torch.stack([_div(xs, theta_gamma), _div(ys, theta_gamma)], 1))
    rgb = image.to(device=dev).reshape(3, n).to(f32)
    bilateral = PermutohedralLattice(
        torch.stack(
            [_div(xs, theta_alpha), _div(ys, theta_alpha)] + [_div(ch, theta_beta) for ch in rgb],
            dim=1,
        )
    )
    del xs, ys, rgb
    kernels = [
        (smooth, smooth.symmetric_norm(), float(w2)),
        (bilateral, bilateral.symmetric_norm(), float(w1)),
    ]
    # -U as (N, C) rows in one pass: each (N, C) tensor is tens of MB of fresh pages.
    neg_unary = torch.empty(n, c, dtype=f32, device=dev).copy_(unary.reshape(c, n).t()).neg_()
    q = _mean_field(neg_unary, kernels, iterations)
    return q.t().reshape(c, h, w).contiguous()
