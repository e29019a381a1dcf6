"""SinGAN: the pyramid, the networks' shapes, training, sampling, harmonization, errors."""

import numpy as np
import pytest
import torch

from vipseg.generative.singan import SinGAN
from vipseg.generative.singan_blocks import ConvStack, blend_weights, pyramid_sizes
from vipseg.registry import MODELS

# Tiny: 4 scales of 14x17 .. 32x40 with 8-channel networks; a fit takes about a second.
TINY = dict(min_size=12, max_size=40, channels=8, device="cpu")
BLOB = (slice(18, 26), slice(20, 30))  # the pasted rectangle, on the "road"


def _street(h=32, w=40) -> np.ndarray:
    """A street-like RGB image: a sky gradient, a grey road with a white line, a red wall."""
    image = np.zeros((h, w, 3), np.uint8)
    image[: h * 7 // 16] = np.linspace(120, 230, w)[None, :, None].astype(np.uint8)
    image[h * 7 // 16 :] = (90, 90, 95)
    image[h * 3 // 4 : h * 3 // 4 + 3] = (230, 230, 230)
    image[h // 4 : h * 5 // 8, w // 8 : w * 3 // 10] = (150, 60, 40)
    return image


def _composite() -> tuple[np.ndarray, np.ndarray]:
    composite = _street()
    composite[BLOB] = (40, 200, 60)  # a naive green paste, foreign to the image
    mask = np.zeros(composite.shape[:2], bool)
    mask[BLOB] = True
    return composite, mask


@pytest.fixture(scope="module")
def fitted():
    torch.manual_seed(0)
    model = SinGAN(**TINY, iters_per_scale=8)
    return model, model.fit(_street())


def test_pyramid_sizes():
    expected = [(14, 17), (18, 23), (24, 30), (32, 40)]  # 32 * 0.75**3 = 13.5 -> 14 >= 12
    assert pyramid_sizes(32, 40, 0.75, 12, 40) == expected
    assert pyramid_sizes(64, 80, 0.75, 12, 40) == expected  # shrunk to max_size first
    assert pyramid_sizes(16, 20, 0.75, 12, 40) == [(12, 15), (16, 20)]  # never enlarged
    assert pyramid_sizes(32, 40, 0.5, 12, 40) == [(16, 20), (32, 40)]
    assert pyramid_sizes(32, 40, 0.75, 14, 40) == expected  # 13.5 rounds up to 14
    assert pyramid_sizes(32, 40, 0.75, 15, 40) == expected[1:]
    assert pyramid_sizes(120, 160, 0.75, 25, 160) == [
        (28, 38), (38, 51), (51, 68), (68, 90), (90, 120), (120, 160)
    ]  # fmt: skip


def test_fit_pyramid_and_network_shapes(fitted):
    model, _ = fitted
    assert model.num_scales == 4
    assert model.sizes == [(14, 17), (18, 23), (24, 30), (32, 40)]
    for n, (h, w) in enumerate(model.sizes):
        assert tuple(model.reals[n].shape) == (1, 3, h, w)
        x = torch.randn(1, 3, h, w)
        out = model.generators[n](x)
        assert out.shape == (1, 3, h, w) and out.abs().max() <= 1  # tanh
        assert model.discriminators[n](x).shape == (1, 1, h, w)
        assert not any(p.requires_grad for p in model.generators[n].parameters())  # frozen


def test_conv_stack_sees_an_11x11_patch():
    net = ConvStack(3, 8, 1, num_layers=5, tanh=False).eval()
    x = torch.randn(1, 3, 31, 31)
    bumped = x.clone()
    bumped[0, :, 15, 15] += 10.0
    changed = (net(bumped) - net(x)).abs()[0, 0] > 0
    rows, cols = changed.nonzero(as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (10, 20, 10, 20)


def test_fit_losses_finite_and_reconstruction_improves(fitted):
    model, logs = fitted
    assert [log["scale"] for log in logs] == [0, 1, 2, 3]
    assert [(log["height"], log["width"]) for log in logs] == model.sizes
    keys = ("loss_d", "gp", "loss_adv", "loss_rec", "loss_rec_first", "noise_amp")
    assert all(np.isfinite(log[k]) for log in logs for k in keys)
    assert logs[0]["noise_amp"] == 1.0 and all(0 < log["noise_amp"] < 0.1 for log in logs[1:])
    finest = logs[-1]
    assert finest["loss_rec"] < 0.6 * finest["loss_rec_first"]  # about 0.3x over seeds 0..5
    assert tuple(model.recs[-1].shape) == (1, 3, 32, 40)


def test_fit_is_deterministic_under_a_seed():
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = SinGAN(**TINY, iters_per_scale=2)
        logs = model.fit(_street())
        torch.manual_seed(4)
        runs.append((logs, model.generate()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


def test_generate(fitted):
    model, _ = fitted
    torch.manual_seed(0)
    a, b = model.generate(), model.generate()
    assert a.shape == b.shape == (1, 3, 32, 40)
    assert not torch.equal(a, b)  # fresh noise per sample

    # From the finest scale only its small noise is random: the sample stays near the
    # reconstruction, much nearer than a free sample from the coarsest scale.
    def mean_gap(scale):
        samples = torch.cat([model.generate(start_scale=scale) for _ in range(4)])
        return (samples - model.recs[-1]).abs().mean()

    assert mean_gap(3) < 0.5 * mean_gap(0)
    start = model.reals[1].clone()
    out = model.generate(start_scale=1, start_image=start)
    assert out.shape == (1, 3, 32, 40)
    other = model.generate(start_scale=1, start_image=-start)
    assert (out - other).abs().mean() > 0.1  # the injected image drives the result


def test_generate_follows_the_residual_formula(fitted):
    """x_n = G_n(amp_n * z_n + up(x_{n-1})) + up(x_{n-1}), here with the noise switched off."""
    model, _ = fitted
    amps = model.noise_amps
    model.noise_amps = [0.0] * model.num_scales
    try:
        x = start = torch.rand(1, 3, 18, 23) * 2 - 1
        for n in (1, 2, 3):
            up = torch.nn.functional.interpolate(x, model.sizes[n], mode="bilinear")
            x = model.generators[n](up) + up
        torch.testing.assert_close(model.generate(1, start), x)
        expected = model.generators[0](model.z_star)  # the coarsest: noise only, no residual
        for n in (1, 2, 3):
            up = torch.nn.functional.interpolate(expected, model.sizes[n], mode="bilinear")
            expected = model.generators[n](up) + up
        torch.testing.assert_close(model.generate(start_scale=3), expected)
        torch.testing.assert_close(expected, model.recs[-1])  # the cached reconstruction
    finally:
        model.noise_amps = amps


def test_harmonize(fitted):
    model, _ = fitted
    composite, mask = _composite()
    torch.manual_seed(0)
    out = model.harmonize(composite, mask)
    assert out.shape == composite.shape and out.dtype == np.uint8
    # Euclidean distance >= dilation + feather lies outside this (Chebyshev) rectangle.
    reach = model.mask_dilation + model.mask_feather
    rows, cols = (slice(s.start - reach, s.stop + reach) for s in BLOB)
    far = np.ones(mask.shape, bool)
    far[rows, cols] = False
    assert far.sum() > 500
    np.testing.assert_array_equal(out[far], composite[far])
    inside = np.abs(out[mask].astype(int) - composite[mask]).mean()
    assert inside > 5.0
    torch.manual_seed(0)
    np.testing.assert_array_equal(model.harmonize(composite, mask), out)
    torch.manual_seed(1)
    assert not np.array_equal(model.harmonize(composite, mask), out)  # noise is used
    coarser = model.harmonize(composite, mask, injection_scale=1)
    assert not np.array_equal(coarser, out)
    np.testing.assert_array_equal(model.harmonize(composite, np.zeros_like(mask)), composite)


def test_blend_weights():
    mask = np.zeros((21, 21), bool)
    mask[10, 10] = True
    row = blend_weights(mask, dilation=2, feather=4)[10, 10:]
    np.testing.assert_allclose(row[:9], [1, 1, 1, 0.75, 0.5, 0.25, 0, 0, 0], atol=1e-3)
    assert (row[6:] == 0).all()
    hard = blend_weights(mask, dilation=2, feather=0)[10, 10:]
    np.testing.assert_array_equal(hard[:5], [1, 1, 1, 0, 0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(scale_factor=1.0), "scale_factor"),
        (dict(scale_factor=0.0), "scale_factor"),
        (dict(scale_factor=-0.5), "scale_factor"),
        (dict(num_layers=1), "num_layers"),
        (dict(iters_per_scale=0), "iters_per_scale"),
        (dict(min_size=50, max_size=40), "max_size"),
        (dict(gp_weight=-1.0), "gp_weight"),
        (dict(mask_feather=-1), "mask_feather"),
    ],
)
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SinGAN(**{**TINY, **kwargs})


def test_bad_inputs(fitted):
    fresh = SinGAN(**TINY, iters_per_scale=1)
    composite, mask = _composite()
    with pytest.raises(ValueError, match="fit"):
        fresh.harmonize(composite, mask)
    with pytest.raises(ValueError, match="fit"):
        fresh.generate()
    with pytest.raises(ValueError, match="image.*uint8"):
        fresh.fit(_street().astype(np.float32))
    with pytest.raises(ValueError, match="image.*HxWx3"):
        fresh.fit(_street()[..., 0])
    with pytest.raises(ValueError, match="min_size"):
        fresh.fit(_street(10, 40))
    model, _ = fitted
    with pytest.raises(ValueError, match="mask"):
        model.harmonize(composite, mask[:, :-1])
    with pytest.raises(ValueError, match="mask"):
        model.harmonize(composite, mask.astype(np.uint8))
    with pytest.raises(ValueError, match="composite"):
        model.harmonize(composite[:-1], mask[:-1])
    with pytest.raises(ValueError, match="composite.*uint8"):
        model.harmonize(composite.astype(np.float64), mask)
    for scale in (0, 4):
        with pytest.raises(ValueError, match="injection_scale"):
            model.harmonize(composite, mask, injection_scale=scale)
    with pytest.raises(ValueError, match="start_image"):
        model.generate(1, torch.zeros(1, 3, 24, 30))
    with pytest.raises(ValueError, match="start_scale"):
        model.generate(0, model.reals[0])
    with pytest.raises(ValueError, match="start_scale"):
        model.generate(4)


def test_builds_from_the_registry():
    from vipseg.utils import register_all_modules

    register_all_modules()
    model = MODELS.build(dict(type="SinGAN", channels=8, iters_per_scale=5, device="cpu"))
    assert isinstance(model, SinGAN)
    assert (model.channels, model.iters_per_scale, model.num_scales) == (8, 5, 0)
    assert model.device == torch.device("cpu")
