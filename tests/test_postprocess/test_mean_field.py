"""Dense-CRF mean field: the fused CPU iteration against the filter-based one."""

import pytest
import torch

import vipseg.postprocess.permutohedral as lattice_module
from vipseg.postprocess.mean_field import dense_crf_mean_field
from vipseg.postprocess.permutohedral import PermutohedralLattice


def _kernels(n, sorted_splat, seed=0):
    """A 2-D and a 5-D lattice over the same points, with their norms and weights."""
    g = torch.Generator().manual_seed(seed)
    position = torch.rand(n, 2, generator=g) * 6
    colour = torch.rand(n, 3, generator=g) * 4
    smooth = PermutohedralLattice(position, sorted_splat=sorted_splat)
    bilateral = PermutohedralLattice(torch.cat([position, colour], 1), sorted_splat=sorted_splat)
    return [(smooth, smooth.symmetric_norm(), 3.0), (bilateral, bilateral.symmetric_norm(), 4.0)]


def test_fused_cpu_iteration_matches_the_filter_path(monkeypatch):
    n, c = 700, 5
    unary = torch.rand(n, c, generator=torch.Generator().manual_seed(1)) * 4
    fused_kernels = _kernels(n, sorted_splat=False)
    assert all(lattice.uses_bags for lattice, _, _ in fused_kernels)
    reference_kernels = _kernels(n, sorted_splat=True)  # index_add_ splat, filter() per step
    assert not any(lattice.uses_bags for lattice, _, _ in reference_kernels)
    reference = dense_crf_mean_field(unary, reference_kernels, 5)
    monkeypatch.setattr(lattice_module, "SLICE_CHUNK_FLOATS", 9 * c)  # 9 rows: 78 chunks
    q = dense_crf_mean_field(unary, fused_kernels, 5)
    torch.testing.assert_close(q, reference, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(q.sum(1), torch.ones(n), atol=1e-5, rtol=0)
    # Mean field moved Q away from the unary's softmax, so the messages were applied.
    assert (q - torch.softmax(-unary, 1)).abs().max() > 0.05
    assert torch.equal(dense_crf_mean_field(unary, fused_kernels, 5), q)


def test_mean_field_leaves_the_unary_unchanged():
    unary = torch.rand(300, 4)
    before = unary.clone()
    dense_crf_mean_field(unary, _kernels(300, sorted_splat=False), 2)
    assert torch.equal(unary, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_mean_field_has_no_host_device_sync_on_cuda():
    g = torch.Generator().manual_seed(0)
    f = (torch.rand(5000, 5, generator=g) * 10).cuda()
    lattice = PermutohedralLattice(f)
    norm = lattice.symmetric_norm()
    unary = torch.rand(5000, 7, generator=g).cuda()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        q = dense_crf_mean_field(unary, [(lattice, norm, 3.0)], 5)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(q.sum(1).cpu(), torch.ones(5000), atol=1e-5, rtol=0)
