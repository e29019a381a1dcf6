"""SPADEGenerator, its SPADE layers and the label encoding."""

import pytest
import torch

from vipseg.generative import SPADE, SPADEGenerator, encode_labels, instance_boundaries


def _gen(**kwargs) -> SPADEGenerator:
    torch.manual_seed(0)
    args = dict(num_classes=3, base_channels=2, num_up=3, hidden_channels=4)
    return SPADEGenerator(**{**args, **kwargs})


def test_encode_labels_one_hot_with_void_and_edges():
    labels = torch.tensor([[[0, 1], [2, 255]]])
    onehot = encode_labels(labels, 3)
    assert onehot.shape == (1, 4, 2, 2)
    assert torch.equal(onehot.argmax(1), torch.tensor([[[0, 1], [2, 3]]]))
    assert torch.equal(onehot.sum(1), torch.ones(1, 2, 2))
    instances = torch.tensor([[[5, 5], [5, 7]]])
    with_edges = encode_labels(labels, 3, instances=instances)
    assert with_edges.shape == (1, 5, 2, 2)
    # the 7 touches both of its 4-neighbours, which touch it; (0, 0) touches only 5s
    assert torch.equal(with_edges[0, 4], torch.tensor([[0.0, 1.0], [1.0, 1.0]]))


def test_encode_labels_names_bad_values():
    with pytest.raises(ValueError, match=r"values \[7\]"):
        encode_labels(torch.tensor([[[0, 7]]]), 3)


def test_instance_boundaries_of_two_halves():
    ids = torch.zeros(1, 4, 6, dtype=torch.long)
    ids[:, :, 3:] = 1
    edges = instance_boundaries(ids)[0, 0]
    assert edges[:, 2:4].eq(1).all() and edges[:, :2].eq(0).all() and edges[:, 4:].eq(0).all()


@pytest.mark.parametrize("size", [(16, 24), (13, 30), (40, 8)])
def test_any_input_size_renders_at_that_size_in_range(size):
    g = _gen()
    seg = encode_labels(torch.randint(0, 3, (2, *size)), 3)
    out = g(seg)
    assert out.shape == (2, 3, *size)
    assert out.abs().max() <= 1


def test_layout_follows_the_paper_widths():
    g = _gen(base_channels=4, num_up=5)
    widths = [[b.conv_1.out_channels for b in blocks] for blocks in g.levels]
    # 16nf at the two coarsest levels (two blocks at the first upsampled one), then halving
    assert widths == [[64], [64, 64], [32], [16], [8], [4]]
    assert g.fc.out_channels == 64
    assert hasattr(g.levels[0][0].conv_0, "parametrizations")  # spectral norm


def test_spade_modulates_by_the_label_map():
    torch.manual_seed(0)
    layer = SPADE(channels=4, seg_channels=3, hidden=8)
    x = torch.randn(2, 4, 8, 8)
    a, b = torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8)
    a[:, 0], b[:, 1] = 1, 1
    assert not torch.allclose(layer(x, a), layer(x, b))
    # a spatially uniform map scales each channel by one factor (away from the conv padding)
    out, normalized = layer(x, a), layer.norm(x)
    beta = layer.beta(layer.shared(a))
    scale = ((out - beta) / normalized)[:, :, 2:6, 2:6]
    assert torch.allclose(scale, scale[:, :, :1, :1].expand_as(scale), atol=1e-4)


def test_noise_changes_the_image_and_none_draws_it():
    g = _gen(z_dim=4).eval()
    seg = encode_labels(torch.randint(0, 3, (1, 16, 16)), 3)
    z = torch.randn(1, 4)
    with torch.no_grad():
        assert torch.equal(g(seg, z), g(seg, z))
        assert not torch.allclose(g(seg, z), g(seg, -z))
        torch.manual_seed(1)
        drawn = g(seg)
        torch.manual_seed(1)
        assert torch.equal(drawn, g(seg, torch.randn(1, 4)))


def test_without_noise_the_generator_is_deterministic_and_label_driven():
    g = _gen().eval()
    a = encode_labels(torch.zeros(1, 16, 16, dtype=torch.long), 3)
    b = encode_labels(torch.ones(1, 16, 16, dtype=torch.long), 3)
    with torch.no_grad():
        assert torch.equal(g(a), g(a))
        assert not torch.allclose(g(a), g(b))


def test_instance_edges_add_a_channel():
    g = _gen(instance_edges=True)
    assert g.label_channels == 5
    with pytest.raises(ValueError, match=r"\(N, 5, H, W\)"):
        g(torch.zeros(1, 4, 16, 16))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="z_dim"):
        SPADEGenerator(num_classes=3, z_dim=-1)
    with pytest.raises(ValueError, match="norm must be one of"):
        SPADEGenerator(num_classes=3, base_channels=2, num_up=1, norm="group")


def test_padding_marks_void_so_the_crop_matches_a_padded_input():
    g = _gen().eval()
    seg = encode_labels(torch.randint(0, 3, (1, 13, 19)), 3)
    padded = encode_labels(torch.full((1, 16, 24), 255), 3)
    padded[:, :, :13, :19] = seg
    with torch.no_grad():
        assert torch.allclose(g(seg), g(padded)[:, :, :13, :19], atol=1e-6)
