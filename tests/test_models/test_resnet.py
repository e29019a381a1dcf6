import pytest
import torch

from vipseg.models.backbones import ResNet


@pytest.mark.parametrize(
    ("depth", "strides", "dilations", "out_stride", "expansion"),
    [
        (18, (1, 2, 1, 1), (1, 1, 2, 4), 8, 1),
        (34, (1, 2, 2, 1), (1, 1, 1, 2), 16, 1),
        (50, (1, 2, 2, 2), (1, 1, 1, 1), 32, 4),
    ],
)
def test_output_strides_and_channels(depth, strides, dilations, out_stride, expansion):
    model = ResNet(depth, base_channels=8, stem_channels=8, strides=strides, dilations=dilations)
    feats = model(torch.randn(1, 3, 64, 64))
    assert len(feats) == 4
    assert feats[-1].shape[-2:] == (64 // out_stride, 64 // out_stride)
    assert feats[0].shape[-2:] == (16, 16)  # stem (/2) + max pool (/2)
    assert [f.shape[1] for f in feats] == [8 * 2**i * expansion for i in range(4)]
    assert model.feat_channels == tuple(f.shape[1] for f in feats)


def test_block_counts_follow_depth():
    model = ResNet(101, base_channels=4, stem_channels=4)
    assert [len(getattr(model, f"layer{i}")) for i in range(1, 5)] == [3, 4, 23, 3]


def test_deep_stem_has_three_convs():
    deep = ResNet(18, base_channels=8, stem_channels=8, deep_stem=True)
    plain = ResNet(18, base_channels=8, stem_channels=8, deep_stem=False)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in deep.stem) == 3
    assert sum(isinstance(m, torch.nn.Conv2d) for m in plain.stem) == 1
    assert plain.stem[0].kernel_size == (7, 7)


def test_contract_dilation_halves_first_block():
    model = ResNet(18, base_channels=8, stem_channels=8, dilations=(1, 1, 2, 4))
    assert model.layer4[0].conv1.dilation == (2, 2)
    assert model.layer4[1].conv1.dilation == (4, 4)


def test_frozen_stages_and_norm_eval():
    model = ResNet(18, base_channels=8, stem_channels=8, frozen_stages=1, norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert not model.layer3[0].bn1.training  # norm_eval keeps BN statistics fixed


def test_bad_depth_is_a_clear_error():
    with pytest.raises(ValueError, match="depth must be one of"):
        ResNet(42)
