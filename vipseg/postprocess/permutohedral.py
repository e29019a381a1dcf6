"""A permutohedral lattice (Adams, Baek & Davis 2010) in pure PyTorch.

With :mod:`vipseg.postprocess.mean_field` this is the ``backend="torch"`` of
:class:`vipseg.postprocess.DenseCRF`. It follows the
semantics of Krähenbühl's ``densecrf`` code as wrapped by ``pydensecrf`` (``DenseCRF2D`` with
``DIAG_KERNEL``, ``NORMALIZE_SYMMETRIC`` and ``PottsCompatibility``), step by step:

* **Lattice construction** (:class:`PermutohedralLattice`): the features are elevated onto the
  hyperplane ``H_d`` with the same per-dimension scale factors
  (``sqrt(2/3) (d+1) / sqrt((i+1)(i+2))``), rounded to the nearest remainder-0 point with the
  same tie rule (ties go down), ranked with the same tie rule, shifted back onto the plane, and
  given the same barycentric weights. Vertex keys are the first ``d`` lattice coordinates, as in
  densecrf; instead of densecrf's open-addressing hash table they are packed exactly into int64
  (mixed radix over the actual coordinate ranges, with a margin for the blur neighbours; int32
  when they fit) and deduplicated with one stable sort; the blur neighbours are found with
  :func:`torch.searchsorted`. This is an exact re-indexing, not an approximation: the vertex
  set, the neighbour structure and the weights are those of densecrf (up to the order of the
  vertices, which does not change any result).
* **Filtering** (:meth:`PermutohedralLattice.filter`): splat with the barycentric weights
  (``index_add_``; on the CPU all three steps are weighted ``embedding_bag`` sums, about 10x
  faster there), blur along the ``d+1`` lattice directions in order ``0..d`` with weights
  ``[1/2, 1, 1/2]`` (missing neighbours count as zero), slice with the barycentric weights and
  multiply by densecrf's constant ``alpha = 1 / (1 + 2^-d)``. The pixel itself is *included*
  (densecrf does not subtract the self term, and neither do we).
* **Mean field**: :func:`vipseg.postprocess.mean_field.dense_crf_mean_field`.

What is approximated: the lattice filter itself only approximates the Gaussian
``exp(-|f_i - f_j|^2 / 2)`` (it is the same approximation pydensecrf makes, so the two backends
agree up to float32 round-off: different summation orders, and float32 instead of densecrf's
occasional double intermediates, can flip a rounding/ranking tie and move a pixel to a
neighbouring simplex). Everything runs in float32.

Memory: the lattice stores ``(N, d+1)`` int64 offsets and float32 weights, and ``(d+1, 2, M+1)``
neighbour indices (``M`` <= ``N (d+1)`` vertices, usually far fewer). Filtering ``(N, C)`` values
allocates ``(M+1, C)`` lattice values and ``(N, C)`` temporaries, one remainder at a time (never an
``(N, d+1, C)`` tensor). Filtering has no host-device synchronisation. Results are
deterministic on every device: off the CPU the splat avoids atomic accumulation order (see
:class:`PermutohedralLattice`), at the cost of ``(N, C)`` float64 prefix sums per remainder.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["PermutohedralLattice"]

_INT64_MAX = 2**63 - 1
# Codes below this are sorted as int32 (about half the time of int64 on the CPU).
INT32_CODES_LIMIT = 2**31
# Floats per slice chunk on the CPU (8 MB): see PermutohedralLattice._filter_bags.
SLICE_CHUNK_FLOATS = 2**21


class PermutohedralLattice:
    """The permutohedral lattice of ``N`` points with ``d``-dimensional features.

    Built once; :meth:`filter` then applies the (approximate) Gaussian
    ``out_i = sum_j exp(-|f_i - f_j|^2 / 2) v_j`` (including ``j = i``, with densecrf's scaling)
    to any ``(N, C)`` values. Features are the already scaled ones (e.g. ``position / theta``).

    Filtering is deterministic on every device: on the CPU it runs as weighted
    ``embedding_bag`` sums (splat, one blur per direction, slice) in a fixed order; elsewhere (CUDA
    atomics would not be deterministic) each remainder's contributions are pre-sorted by vertex
    at construction and reduced with a float64 prefix sum, so every vertex then receives
    exactly one ``index_add_`` per remainder.

    Args:
        features: float ``(N, d)`` tensor; computed in float32 on its device.
        sorted_splat: force (``True``) or forbid (``False``) the sorted, prefix-sum splat;
            ``None``: use it off the CPU.

    Attributes:
        offsets: int64 ``(N, d+1)``: vertex index of each point's ``d+1`` enclosing vertices.
        weights: float32 ``(N, d+1)``: their barycentric weights (sum to 1 per point).
        neighbors: int64 ``(d+1, 2, M+1)``: per direction, the two blur neighbours of each
            vertex; index ``M`` is an always-zero dummy vertex (a missing neighbour).
        num_vertices: ``M``.
    """

    def __init__(self, features: torch.Tensor, sorted_splat: bool | None = None):
        if features.dim() != 2 or features.shape[0] < 1 or features.shape[1] < 1:
            raise ValueError(f"features must be (N, d) with N, d >= 1, got {tuple(features.shape)}")
        f = features.to(torch.float32)
        n, d = f.shape
        dev = f.device
        self.d = d
        self.num_points = n

        # Elevate onto H_d (Adams et al. 2010, p.5), in densecrf's order of float32 operations.
        inv_std_dev = math.sqrt(2.0 / 3.0) * (d + 1)
        scale = torch.tensor(
            [1.0 / math.sqrt((i + 2) * (i + 1)) * inv_std_dev for i in range(d)],
            dtype=torch.float32,
            device=dev,
        )
        elevated = torch.empty(n, d + 1, dtype=torch.float32, device=dev)
        sm = torch.zeros(n, dtype=torch.float32, device=dev)
        for j in range(d, 0, -1):
            cf = f[:, j - 1] * scale[j - 1]
            elevated[:, j] = sm - j * cf
            sm = sm + cf
        elevated[:, 0] = sm

        # Closest remainder-0 point: round each coordinate to a multiple of d+1 (ties go down).
        down_factor = torch.tensor(1.0 / (d + 1), dtype=torch.float32, device=dev)
        v = down_factor * elevated
        up = torch.ceil(v) * (d + 1)
        down = torch.floor(v) * (d + 1)
        rem0 = torch.where(up - elevated < elevated - down, up, down)  # float32, exact ints
        coord_sum = torch.round(rem0.sum(dim=1) * down_factor).to(torch.int64)  # (N,)

        # Rank of each coordinate of (elevated - rem0), with densecrf's tie-breaking.
        diff = elevated - rem0
        rank = torch.zeros(n, d + 1, dtype=torch.int64, device=dev)
        for i in range(d):
            less = diff[:, i : i + 1] < diff[:, i + 1 :]
            rank[:, i] += less.sum(dim=1)
            rank[:, i + 1 :].add_(less.logical_not_())  # a bool in place: no int64 temporary

        # Bring the point back onto the plane (sum of rem0 coordinates must be zero).
        rank += coord_sum[:, None]
        rem0 = rem0.to(torch.int64)
        # In place from bool masks: int64 (N, d+1) temporaries cost more than the arithmetic.
        for mask, step in ((rank < 0, d + 1), (rank > d, -(d + 1))):
            rank.add_(mask, alpha=step)
            rem0.add_(mask, alpha=step)
        del mask

        # Barycentric coordinates (p.10 of Adams et al.).
        v = (elevated - rem0.to(torch.float32)) * down_factor
        bary = torch.zeros(n, d + 2, dtype=torch.float32, device=dev)
        column = rank.neg_().add_(d)  # d - rank, in place: rank is not needed as such again
        bary.scatter_add_(1, column, v)
        column += 1  # d + 1 - rank from here on
        bary.scatter_add_(1, column, v.neg_())
        bary[:, 0] += 1.0 + bary[:, d + 1]
        self.weights = bary[:, : d + 1].contiguous()
        del elevated, diff, v, bary, sm

        # Exact int64 packing of the d key coordinates: mixed radix over their actual range,
        # with a margin of 2(d+1) each side for simplex vertices (+-d) and blur neighbours (+-d).
        margin = 2 * (d + 1)
        lo = rem0[:, :d].amin(dim=0) - margin
        hi = rem0[:, :d].amax(dim=0) + margin
        radix = [int(r) for r in (hi - lo + 1).tolist()]  # one sync, at construction only
        strides, total = [], 1
        for r in radix:
            strides.append(total)
            total *= r
        if total - 1 > _INT64_MAX:
            raise OverflowError(
                f"permutohedral lattice keys need {total.bit_length()} bits (coordinate ranges "
                f"{radix}), more than int64 holds; the features span too many lattice cells - "
                "use larger thetas (kernel widths) or a smaller image"
            )
        stride_t = torch.tensor(strides, dtype=torch.int64, device=dev)
        base = ((rem0[:, :d] - lo) * stride_t).sum(dim=1)  # (N,)

        # The remainder-r vertex adds r to the coordinates of rank <= d - r and r - (d + 1) to
        # the others (densecrf's canonical simplex); in code space that is r * sum(strides)
        # minus (d + 1) * high_r, the strides of the coordinates of rank > d - r, i.e. of those
        # with d + 1 - rank <= r: a prefix sum over r of each coordinate's stride put at
        # column d + 1 - rank (column d + 1, rank 0, is never reached).
        high = torch.zeros(n, d + 2, dtype=torch.int64, device=dev)
        high.scatter_add_(1, column[:, :d], stride_t.expand(n, d))
        codes = high.cumsum_(1)[:, : d + 1].mul_(-(d + 1))
        codes += torch.arange(d + 1, device=dev) * sum(strides)
        codes += base[:, None]
        del rank, column, rem0, base

        # One stable sort gives the vertex of each (point, remainder) and, kept for the CPU
        # filter's splat matrix, the entries grouped by vertex in point order. Codes are in
        # [0, total): below INT32_CODES_LIMIT they are sorted as int32 (about 2x faster).
        narrow = total <= INT32_CODES_LIMIT
        codes = torch.empty(n, d + 1, dtype=torch.int32 if narrow else torch.int64, device=dev)
        codes.copy_(high[:, : d + 1])  # also makes the strided view contiguous
        del high
        sorted_codes, order = torch.sort(codes.reshape(-1), stable=True)
        del codes

        new_key = torch.ones_like(sorted_codes, dtype=torch.bool)
        new_key[1:] = sorted_codes[1:] != sorted_codes[:-1]
        keys = sorted_codes[new_key]
        inverse = torch.empty_like(order).scatter_(0, order, torch.cumsum(new_key, 0).sub_(1))
        self._splat_order = order
        del sorted_codes, new_key
        m = keys.numel()
        self.num_vertices = m
        self.offsets = inverse.reshape(n, d + 1)

        # Blur neighbours: n1 = key - 1 on every coordinate except j, which gets + d (for j = d
        # every stored coordinate gets - 1); n2 is the opposite. In code space a constant shift,
        # so n2 is n1's inverse map (u = n1(v) exactly when v = n2(u)): one search per direction.
        all_minus_one = -sum(strides)
        neighbors = torch.full((d + 1, 2, m + 1), m, dtype=torch.int64, device=dev)
        vertex = torch.arange(m, device=dev)
        for j in range(d + 1):
            target = keys + (all_minus_one + ((d + 1) * strides[j] if j < d else 0))
            pos = torch.searchsorted(keys, target).clamp_(max=m - 1)
            found = keys.index_select(0, pos) == target
            neighbors[j, 0, :m] = torch.where(found, pos, m)
            neighbors[j, 1].index_put_((pos[found],), vertex[found])
        self.neighbors = neighbors
        self.alpha = 1.0 / (1.0 + 2.0 ** (-d))

        if sorted_splat is None:
            sorted_splat = dev.type != "cpu"
        self._segments = None
        self._bags = None
        if sorted_splat:
            # Per remainder: point order sorted by vertex, the sorted weights, the distinct
            # vertices and the last sorted position of each (segment ends).
            self._segments = []
            for r in range(d + 1):
                vert = self.offsets[:, r]
                perm = torch.argsort(vert, stable=True)
                sorted_vert = vert[perm]
                last = torch.ones(n, dtype=torch.bool, device=dev)
                last[:-1] = sorted_vert[1:] != sorted_vert[:-1]
                ends = last.nonzero().squeeze(1)
                self._segments.append((perm, self.weights[perm, r], sorted_vert[ends], ends))

    def filter(
        self, values: torch.Tensor, reverse: bool = False, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Gaussian-filter ``(N, C)`` float values; returns float32 ``(N, C)``.

        ``reverse=True`` blurs the directions in the order ``d..0``, which applies the transpose
        of the forward operator (the blurs do not commute where lattice vertices are missing), as
        densecrf's ``compute(..., reverse)``. Mean field uses the forward one. ``out``: a float32
        ``(N, C)`` tensor to write the result into (and return); mean field reuses one.
        """
        if values.dim() != 2 or values.shape[0] != self.num_points:
            raise ValueError(f"values must be ({self.num_points}, C), got {tuple(values.shape)}")
        values = values.to(torch.float32)
        if out is not None and (out.shape != values.shape or out.dtype != torch.float32):
            raise ValueError(f"out must be float32 {tuple(values.shape)}, got {tuple(out.shape)}")
        if self.uses_bags:
            return self._filter_bags(values, reverse, out)
        if out is not None:
            return out.copy_(self.filter(values, reverse))
        c = values.shape[1]
        m, d = self.num_vertices, self.d
        lattice = values.new_zeros(m + 1, c)
        if self._segments is None:
            for r in range(d + 1):  # splat, one remainder at a time
                lattice.index_add_(0, self.offsets[:, r], values * self.weights[:, r : r + 1])
        else:
            for perm, weight, vert, ends in self._segments:  # deterministic splat
                csum = torch.cumsum(values[perm] * weight[:, None], dim=0, dtype=torch.float64)
                seg = csum[ends]
                seg[1:] -= csum[ends[:-1]]
                del csum
                lattice.index_add_(0, vert, seg.to(torch.float32))  # distinct indices
        for j in reversed(range(d + 1)) if reverse else range(d + 1):  # blur, [1/2, 1, 1/2]
            n1 = lattice.index_select(0, self.neighbors[j, 0])
            n1 += lattice.index_select(0, self.neighbors[j, 1])
            lattice.add_(n1, alpha=0.5)  # the dummy row M stays zero
            del n1
        out = values.new_zeros(self.num_points, c)
        for r in range(d + 1):  # slice
            out += lattice.index_select(0, self.offsets[:, r]) * self.weights[:, r : r + 1]
        return out.mul_(self.alpha)

    @property
    def uses_bags(self) -> bool:
        """Whether :meth:`filter` runs as ``embedding_bag`` sums (a CPU lattice, unsorted splat)."""
        return self.offsets.device.type == "cpu" and self._segments is None

    def bag_operators(self) -> tuple:
        """Splat, blurs and slice as ``embedding_bag`` arguments, built once (the CPU path).

        Each step is a weighted sum of rows per output row (a vertex: the points on it, or
        itself and its two neighbours; a point: its ``d+1`` vertices), which is exactly what
        ``embedding_bag(mode="sum", per_sample_weights=...)`` computes. Its CPU kernel runs
        about 2x faster than sparse CSR products (whose wrapper copies and zero-fills the
        operands) and about 10x faster than ``index_add_`` / ``index_select``. Every bag is
        summed in a fixed order, so the result is deterministic.

        Returns ``(splat, blurs, slice)``, each ``(input, offsets, per_sample_weights)``:
        ``splat`` has ``M+1`` bags over points (the last, the dummy vertex, empty), ``blurs`` one
        such triple per direction ``0..d`` with ``M+1`` bags over vertices, and ``slice`` a
        ``(N, d+1)`` input (fixed-size bags, offsets ``None``) with ``alpha`` folded into its
        weights.
        """
        if self._bags is None:
            self._bags = self._build_bags()
        return self._bags

    def _build_bags(self) -> tuple:
        m, k = self.num_vertices, self.d + 1
        flat = self.offsets.reshape(-1)
        order = self._splat_order  # flat sorted by vertex, stably (from the construction)
        # Bag M (the dummy vertex) is empty: its row stays zero.
        counts = torch.bincount(flat, minlength=m + 1)
        starts = counts.cumsum(0) - counts
        # index_select, not x[order]: on the CPU advanced indexing is ~5x slower here.
        splat = (order // k, starts, self.weights.reshape(-1).index_select(0, order))
        # Blur bags [v, n1, n2] with weights [1, 1/2, 1/2]; the dummy vertex M gets an empty bag.
        blur_starts = torch.cat([torch.arange(0, 3 * m, 3), torch.tensor([3 * m])])
        blur_weights = torch.tensor([1.0, 0.5, 0.5]).repeat(m)
        blurs = []
        for j in range(k):
            rows = torch.stack([torch.arange(m), *self.neighbors[j, :, :m]], 1).reshape(-1)
            blurs.append((rows, blur_starts, blur_weights))
        # (N, d+1) bags of a fixed size; densecrf's alpha folded into the weights (one pass less).
        slice_ = (self.offsets, None, self.weights * self.alpha)
        return splat, blurs, slice_

    def _filter_bags(self, values: torch.Tensor, reverse: bool, out: torch.Tensor | None):
        splat, blurs, slice_ = self.bag_operators()

        def bag_sum(table: torch.Tensor, bags: tuple) -> torch.Tensor:
            rows, starts, weights = bags
            return F.embedding_bag(rows, table, starts, mode="sum", per_sample_weights=weights)

        lattice = bag_sum(values, splat)
        for blur in reversed(blurs) if reverse else blurs:
            lattice = bag_sum(lattice, blur)
        if out is None:
            out = torch.empty_like(values)
        # The slice in chunks of ~8 MB: a whole (N, C) result (40 MB at 512x1024 x 19) is above
        # glibc's mmap threshold, so each one would be fresh pages from the OS - page faults
        # that cost more than the slice itself; chunks this size reuse the heap.
        rows, _, weights = slice_
        chunk = max(1, SLICE_CHUNK_FLOATS // values.shape[1])
        for a in range(0, self.num_points, chunk):
            b = min(a + chunk, self.num_points)
            out[a:b] = bag_sum(lattice, (rows[a:b], None, weights[a:b]))
        return out

    def symmetric_norm(self) -> torch.Tensor:
        """densecrf's ``NORMALIZE_SYMMETRIC`` factor ``1 / sqrt(K 1 + 1e-20)``, ``(N, 1)``."""
        ones = torch.ones(self.num_points, 1, dtype=torch.float32, device=self.offsets.device)
        return torch.rsqrt(self.filter(ones) + 1e-20)
