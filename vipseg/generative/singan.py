"""SinGAN (Shaham, Dekel, Michaeli, ICCV 2019, arXiv 1905.01164): a pyramid of patch GANs fit
to one image, here used to harmonize a pasted blob into the image it was fit on.

Scales are indexed coarsest first: scale 0 is the coarsest (the paper's N), scale
``num_scales - 1`` the finest (the paper's 0).
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vipseg.registry import MODELS

from . import singan_blocks as blocks


@MODELS.register_module()
class SinGAN(nn.Module):
    """Single-image GAN pyramid: ``fit`` one image, then ``generate`` samples or ``harmonize``.

    Scale ``n``'s generator refines the upsampled output of scale ``n - 1``:
    ``x_n = G_n(amp_n * z_n + up(x_{n-1})) + up(x_{n-1})``; the coarsest maps pure noise,
    ``x_0 = G_0(z_0)``. Scales are trained coarse to fine, each with the coarser ones frozen,
    against a patch discriminator ``D_n`` (WGAN-GP) plus ``rec_weight`` times the MSE of the
    reconstruction: a fixed noise map ``z*`` at the coarsest scale, zero noise above. ``amp_n``
    is ``noise_amp`` times the RMSE between the upsampled reconstruction of scale ``n - 1`` and
    the image at scale ``n`` (1 at the coarsest). ``G_n``/``D_n`` start from the weights of
    ``G_{n-1}``/``D_{n-1}`` (same architecture), as in the paper. Randomness comes from torch's
    global generator, so ``torch.manual_seed`` makes ``fit``, ``generate`` and ``harmonize``
    reproducible (on the CPU). The device is fixed at construction.

    Args:
        max_size: the training image is shrunk (never enlarged) to this long side.
        min_size: the coarsest scale's short side is the smallest one >= this.
        scale_factor: size ratio of a scale to the next finer one, in (0, 1).
        num_layers: 3x3 convolutions per generator and discriminator (paper: 5).
        channels: channels of their hidden convolutions (paper: 32).
        iters_per_scale: training iterations per scale (paper: 2000).
        steps_d: discriminator steps per iteration (paper: 3).
        steps_g: generator steps per iteration (paper: 3).
        lr: Adam learning rate of both networks (paper: 5e-4), betas (0.5, 0.999).
        lr_decay_at: fraction of ``iters_per_scale`` after which ``lr`` drops tenfold, as in
            SinGAN's published setup (1600 of 2000); 1.0 keeps it constant.
        gp_weight: weight of the gradient penalty (paper: 0.1).
        rec_weight: weight of the reconstruction loss (paper: 10).
        noise_amp: noise amplitude per unit of reconstruction RMSE (paper: 0.1).
        mask_dilation: ``harmonize`` takes the generated pixels within this many pixels
            (of the composite's resolution) of the mask ...
        mask_feather: ... and blends them linearly into the composite over this many more.
        device: ``'cuda'``, ``'cpu'``, ...; ``None``: CUDA if available, else the CPU.
    """

    def __init__(
        self,
        max_size: int = 250,
        min_size: int = 25,
        scale_factor: float = 0.75,
        num_layers: int = 5,
        channels: int = 32,
        iters_per_scale: int = 2000,
        steps_d: int = 3,
        steps_g: int = 3,
        lr: float = 5e-4,
        lr_decay_at: float = 0.8,
        gp_weight: float = 0.1,
        rec_weight: float = 10.0,
        noise_amp: float = 0.1,
        mask_dilation: int = 2,
        mask_feather: int = 4,
        device: str | None = None,
    ):
        super().__init__()
        blocks.check_args(
            dict(max_size=max_size, min_size=min_size, scale_factor=scale_factor, lr=lr)
            | dict(num_layers=num_layers, channels=channels, iters_per_scale=iters_per_scale)
            | dict(steps_d=steps_d, steps_g=steps_g, lr_decay_at=lr_decay_at, gp_weight=gp_weight)
            | dict(rec_weight=rec_weight, noise_amp=noise_amp, mask_dilation=mask_dilation)
            | dict(mask_feather=mask_feather)
        )
        self.max_size, self.min_size, self.scale_factor = max_size, min_size, scale_factor
        self.num_layers, self.channels, self.iters_per_scale = num_layers, channels, iters_per_scale
        self.steps_d, self.steps_g, self.lr, self.lr_decay_at = steps_d, steps_g, lr, lr_decay_at
        self.gp_weight, self.rec_weight, self.noise_amp = gp_weight, rec_weight, noise_amp
        self.mask_dilation, self.mask_feather = mask_dilation, mask_feather
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.generators, self.discriminators = nn.ModuleList(), nn.ModuleList()
        self.sizes: list[tuple[int, int]] = []  # (h, w) per scale, coarsest first
        self.reals: list[torch.Tensor] = []  # the training image per scale, in [-1, 1]
        self.recs: list[torch.Tensor] = []  # the reconstruction per scale (frozen networks)
        self.noise_amps: list[float] = []
        self.z_star: torch.Tensor | None = None
        self.image_shape: tuple[int, int] | None = None  # (H, W) of the image given to fit

    @property
    def num_scales(self) -> int:
        """Number of scales of the fitted pyramid (0 before ``fit``)."""
        return len(self.generators)

    def fit(self, image: np.ndarray) -> list[dict]:
        """Train the pyramid on ``image`` (HxWx3 uint8 RGB), coarse to fine.

        Returns one dict per scale (coarsest first): ``scale``, ``height``, ``width``,
        ``noise_amp`` and the last step's ``loss_d`` (critic's fake minus real score), ``gp``,
        ``loss_adv`` and ``loss_rec``, and the first step's ``loss_rec_first``.
        """
        image = blocks.check_image(image, "image")
        self.image_shape = None  # not fitted until the whole pyramid is
        h, w = image.shape[:2]
        self.sizes = blocks.pyramid_sizes(h, w, self.scale_factor, self.min_size, self.max_size)
        finest = blocks.resize(image, self.sizes[-1])
        self.reals = [blocks.to_tensor(blocks.resize(finest, s), self.device) for s in self.sizes]
        self.generators, self.discriminators = nn.ModuleList(), nn.ModuleList()
        self.recs, self.noise_amps = [], []
        self.z_star = torch.randn_like(self.reals[0])
        logs = [self._fit_scale(n) for n in range(len(self.sizes))]
        self.image_shape = image.shape[:2]
        return logs

    def _up(self, x: torch.Tensor, n: int) -> torch.Tensor:
        if tuple(x.shape[-2:]) == self.sizes[n]:
            return x
        return F.interpolate(x, size=self.sizes[n], mode="bilinear", align_corners=False)

    def _run(self, stop: int, start: int = 0, x=None, random_from: int = 0) -> torch.Tensor:
        """x_{stop-1}: G_start .. G_{stop-1} applied to ``x`` (None: from the coarsest), with
        fresh noise from scale ``random_from`` on and the reconstruction's noise below it."""
        for n in range(start, stop):
            prev = torch.zeros_like(self.reals[n]) if x is None else self._up(x, n)
            if n >= random_from:
                noise = self.noise_amps[n] * torch.randn_like(prev)
            else:
                noise = self.z_star if n == 0 else torch.zeros_like(prev)
            x = self.generators[n](noise + prev) + prev
        return x

    def _fit_scale(self, n: int) -> dict:
        real = self.reals[n]
        gen = blocks.ConvStack(3, self.channels, 3, self.num_layers, tanh=True).to(self.device)
        disc = blocks.ConvStack(3, self.channels, 1, self.num_layers, tanh=False).to(self.device)
        if n == 0:
            rec_prev, rec_noise, amp = torch.zeros_like(real), self.z_star, 1.0
        else:
            gen.load_state_dict(self.generators[n - 1].state_dict())
            disc.load_state_dict(self.discriminators[n - 1].state_dict())
            rec_prev = self._up(self.recs[n - 1], n)
            rec_noise = torch.zeros_like(real)
            amp = self.noise_amp * F.mse_loss(rec_prev, real).sqrt().item()
        self.noise_amps.append(amp)
        opt_g = torch.optim.Adam(gen.parameters(), lr=self.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(disc.parameters(), lr=self.lr, betas=(0.5, 0.999))
        decay_at = round(self.lr_decay_at * self.iters_per_scale)
        stats: dict[str, torch.Tensor] = {}
        for it in range(self.iters_per_scale):
            if it == decay_at:
                for group in [*opt_g.param_groups, *opt_d.param_groups]:
                    group["lr"] *= 0.1
            with torch.no_grad():
                # The frozen coarser scales' random sample; one per iteration, shared by its
                # D and G steps, like the fake D scores (G does not change during D's steps).
                prev = self._up(self._run(n), n) if n else torch.zeros_like(real)
                noise = amp * torch.randn_like(real)
                fake = gen(noise + prev) + prev
            for _ in range(self.steps_d):
                stats.update(blocks.critic_step(disc, opt_d, real, fake, self.gp_weight))
            disc.requires_grad_(False)  # G's steps need D's input gradients, not its weights'
            for _ in range(self.steps_g):
                adv = -disc(gen(noise + prev) + prev).mean()
                rec = F.mse_loss(gen(rec_noise + rec_prev) + rec_prev, real)
                opt_g.zero_grad(set_to_none=True)
                (adv + self.rec_weight * rec).backward()
                opt_g.step()
                stats.setdefault("loss_rec_first", rec.detach())
                stats.update(loss_adv=adv.detach(), loss_rec=rec.detach())
            disc.requires_grad_(True)
        for net, nets in ((gen, self.generators), (disc, self.discriminators)):
            nets.append(net.eval().requires_grad_(False))
        with torch.no_grad():
            self.recs.append(gen(rec_noise + rec_prev) + rec_prev)
        h, w = self.sizes[n]
        losses = {name: value.item() for name, value in stats.items()}
        return dict(scale=n, height=h, width=w, noise_amp=amp, **losses)

    def _check_fitted(self, method: str) -> None:
        if self.image_shape is None:
            raise ValueError(f"{method}() needs a fitted model: call fit(image) first")

    @torch.no_grad()
    def generate(
        self, start_scale: int = 0, start_image: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A sample at the finest scale, (1, 3, h, w) in about [-1, 1] (residuals are unclamped).

        Without ``start_image``, scales below ``start_scale`` follow the reconstruction (the
        fixed ``z*``), so the sample keeps the training image's layout at those scales, and
        every scale from ``start_scale`` on draws fresh noise (0: a free sample). With
        ``start_image`` ((1, 3, h, w) in [-1, 1] at scale ``start_scale``'s size, scale >= 1:
        the coarsest generator only ever saw noise), it replaces ``up(x_{start_scale - 1})``:
        ``G_start_scale`` and the finer generators refine it, with their noise.
        """
        self._check_fitted("generate")
        if not isinstance(start_scale, int) or not 0 <= start_scale < self.num_scales:
            last = self.num_scales - 1
            raise ValueError(f"start_scale must be in [0, {last}], got {start_scale!r}")
        if start_image is None:
            return self._run(self.num_scales, random_from=start_scale)
        size = (1, 3, *self.sizes[start_scale])
        if not isinstance(start_image, torch.Tensor) or tuple(start_image.shape) != size:
            got = tuple(start_image.shape) if isinstance(start_image, torch.Tensor) else start_image
            raise ValueError(f"start_image must be a tensor of shape {size}, got {got!r}")
        if start_scale == 0:
            raise ValueError("start_scale must be >= 1 with a start_image (G_0 maps pure noise)")
        x = start_image.to(self.device, torch.float32)
        return self._run(self.num_scales, start_scale, x, random_from=start_scale)

    def harmonize(
        self, composite: np.ndarray, mask: np.ndarray, injection_scale: int | None = None
    ) -> np.ndarray:
        """Blend the pasted pixels ``mask`` of ``composite`` into the image the model was fit on.

        ``composite`` (HxWx3 uint8 RGB, the size of the image given to ``fit``) is shrunk to
        ``injection_scale``'s size and refined by that scale's generator and the finer ones;
        the result, back at HxW, replaces the composite on the mask and within
        ``mask_dilation`` px of it and fades into it over ``mask_feather`` px (covering the
        paste's rim). Every other pixel is the composite's, exactly. ``injection_scale``
        defaults to ``num_scales - 2``, one below the finest (or the finest for 2 scales): the
        two finest generators re-texture and recolour the paste at the background's patch
        statistics, while coarser ones would also redraw its shape (the paper injects the
        composite at a fine scale for harmonization). Returns HxWx3 uint8 RGB.
        """
        self._check_fitted("harmonize")
        composite = blocks.check_image(composite, "composite")
        if composite.shape[:2] != self.image_shape:
            raise ValueError(
                f"composite must be the size of the fitted image {self.image_shape}, "
                f"got {composite.shape[:2]}"
            )
        if not isinstance(mask, np.ndarray) or mask.dtype != bool:
            raise ValueError(f"mask must be a bool numpy array, got {getattr(mask, 'dtype', mask)}")
        if mask.shape != composite.shape[:2]:
            raise ValueError(f"mask shape {mask.shape} != composite's {composite.shape[:2]}")
        scale = max(1, self.num_scales - 2) if injection_scale is None else injection_scale
        if not isinstance(scale, int) or not 1 <= scale < self.num_scales:
            raise ValueError(
                f"injection_scale must be in [1, {self.num_scales - 1}] (an empty range for one "
                f"scale: lower min_size), got {scale!r}"
            )
        if not mask.any():
            return composite.copy()
        start = blocks.to_tensor(blocks.resize(composite, self.sizes[scale]), self.device)
        harmonized = blocks.resize(blocks.to_image(self.generate(scale, start)), self.image_shape)
        return blocks.blend(composite, harmonized, mask, self.mask_dilation, self.mask_feather)
