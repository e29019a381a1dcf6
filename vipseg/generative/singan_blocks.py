"""SinGAN's parts without training state: the per-scale conv stack, the pyramid's sizes, image
conversions and the blend weights of a harmonized paste. Used by :mod:`.singan`."""

import cv2
import numpy as np
import torch
from torch import nn


class ConvStack(nn.Sequential):
    """``num_layers`` 3x3 convolutions; all but the last are followed by BatchNorm, LeakyReLU(0.2).

    SinGAN's generator (``out_channels=3``, ``tanh=True``) and its patch discriminator
    (``out_channels=1``, a map of per-patch scores) are this one stack. Each output pixel sees a
    ``2 * num_layers + 1`` square patch (11x11 for the paper's 5 layers); zero padding keeps
    every map the size of the input.

    Args:
        in_channels: channels of the input.
        channels: channels of every hidden convolution.
        out_channels: channels of the last convolution.
        num_layers: number of convolutions, >= 2.
        tanh: end with ``tanh`` (the generator's output range, [-1, 1]).
    """

    def __init__(
        self, in_channels: int, channels: int, out_channels: int, num_layers: int, tanh: bool
    ):
        layers: list[nn.Module] = []
        width = in_channels
        for _ in range(num_layers - 1):
            # No conv bias: the BatchNorm right after it has its own.
            layers.append(nn.Conv2d(width, channels, 3, padding=1, bias=False))
            layers += [nn.BatchNorm2d(channels), nn.LeakyReLU(0.2)]
            width = channels
        layers.append(nn.Conv2d(width, out_channels, 3, padding=1))
        if tanh:
            layers.append(nn.Tanh())
        super().__init__(*layers)
        for module in self.modules():
            # DCGAN's init: small weights make a fresh generator's residual small, so a new
            # scale starts close to the upsampled image it refines.
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)


def check_args(args: dict) -> None:
    """A ValueError naming the first bad one of SinGAN's constructor arguments ``args``."""
    if not 0.0 < args["scale_factor"] < 1.0:
        raise ValueError(f"scale_factor must be in (0, 1), got {args['scale_factor']!r}")
    minimums = dict(max_size=1, min_size=1, num_layers=2, channels=1, iters_per_scale=1)
    minimums.update(steps_d=1, steps_g=1, mask_dilation=0, mask_feather=0)
    for name, minimum in minimums.items():
        if not isinstance(args[name], int) or args[name] < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {args[name]!r}")
    if args["max_size"] < args["min_size"]:
        raise ValueError(f"max_size ({args['max_size']}) must be >= min_size ({args['min_size']})")
    for name in ("lr", "gp_weight", "rec_weight", "noise_amp"):
        # `not >=` also rejects NaN.
        if not isinstance(args[name], int | float) or not args[name] >= 0.0:
            raise ValueError(f"{name} must be a number >= 0, got {args[name]!r}")
    if args["lr"] == 0.0 or not 0.0 < args["lr_decay_at"] <= 1.0:
        raise ValueError(
            f"need lr > 0 and lr_decay_at in (0, 1], got {args['lr']!r}, {args['lr_decay_at']!r}"
        )


def critic_step(disc, opt, real, fake, gp_weight: float) -> dict[str, torch.Tensor]:
    """One WGAN-GP step of the critic ``disc``; returns its ``loss_d`` (fake minus real score)
    and ``gp`` (the gradient penalty, before ``gp_weight``), detached."""
    wasserstein = disc(fake).mean() - disc(real).mean()
    alpha = torch.rand((), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(disc(mixed).sum(), mixed, create_graph=True)
    # The penalty holds the gradient of the summed patch scores near norm 1 per pixel (over
    # channels): a whole-image norm of the mean score's gradient would scale with the image
    # size and shift the adversarial vs reconstruction balance from one scale to the next.
    gp = ((grad.norm(dim=1) - 1.0) ** 2).mean()
    opt.zero_grad(set_to_none=True)
    (wasserstein + gp_weight * gp).backward()
    opt.step()
    return dict(loss_d=wasserstein.detach(), gp=gp.detach())


def _round(x: float) -> int:
    # Half up, not Python's half to even: sizes should not depend on the parity of a neighbour.
    return int(x + 0.5)


def pyramid_sizes(
    height: int, width: int, scale_factor: float, min_size: int, max_size: int
) -> list[tuple[int, int]]:
    """``(h, w)`` of every scale, coarsest first.

    The finest is the image shrunk (never enlarged) so that its long side is at most
    ``max_size``; scale ``k`` below it is that size times ``scale_factor ** k``, rounded, down
    to the last one whose short side is still >= ``min_size``.
    """
    shrink = min(1.0, max_size / max(height, width))
    h, w = _round(height * shrink), _round(width * shrink)
    if min(h, w) < min_size:
        raise ValueError(
            f"image: short side {min(h, w)} px (of {height}x{width}, fit into "
            f"max_size={max_size}) is below min_size={min_size}"
        )
    sizes = [(h, w)]
    while True:
        factor = scale_factor ** len(sizes)
        size = (_round(h * factor), _round(w * factor))
        if min(size) < min_size:
            return sizes[::-1]
        sizes.append(size)


def check_image(image, name: str) -> np.ndarray:
    """``image`` if it is an HxWx3 uint8 array, else a ValueError naming ``name``."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        kind = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"{name} must be a uint8 numpy array (HxWx3 RGB), got {kind}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name} must have shape HxWx3 (RGB), got {image.shape}")
    return image


def to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """HxWx3 uint8 RGB -> (1, 3, H, W) float32 in [-1, 1]: the range of the generators' tanh."""
    x = torch.from_numpy(np.ascontiguousarray(image)).to(device, torch.float32)
    return (x / 127.5 - 1.0).permute(2, 0, 1)[None].contiguous()


def to_image(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] -> HxWx3 float32 RGB in [0, 255] (not rounded: blending follows)."""
    x = (x[0].detach().clamp(-1.0, 1.0) + 1.0) * 127.5
    return x.permute(1, 2, 0).float().cpu().numpy()


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` at ``size`` (h, w): area averaging when shrinking (no aliasing), else bilinear."""
    h, w = size
    smaller = h * w < image.shape[0] * image.shape[1]
    interpolation = cv2.INTER_AREA if smaller else cv2.INTER_LINEAR
    return cv2.resize(image, (w, h), interpolation=interpolation)


def blend_weights(mask: np.ndarray, dilation: int, feather: int) -> np.ndarray:
    """HxW float32 weights of the harmonized image: 1 on ``mask`` and within ``dilation`` px of
    it, falling linearly to 0 over the next ``feather`` px, exactly 0 from there on."""
    # Distance of every pixel to the nearest mask pixel (0 on the mask).
    distance = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    if feather == 0:
        return (distance <= dilation).astype(np.float32)
    return np.clip((dilation + feather - distance) / feather, 0.0, 1.0).astype(np.float32)


def blend(
    composite: np.ndarray, harmonized: np.ndarray, mask: np.ndarray, dilation: int, feather: int
) -> np.ndarray:
    """uint8 ``composite`` with ``harmonized`` (float, [0, 255]) blended in by
    :func:`blend_weights`; where the weight is 0 the composite's pixels are kept as they are."""
    weight = blend_weights(mask, dilation, feather)[..., None]
    mixed = np.round(weight * harmonized + (1.0 - weight) * composite)
    return np.where(weight > 0, mixed, composite).astype(np.uint8)
