"""SinGAN-style harmonization for the offline CopyBlob (``synthesize.py --mode copyblob
--harmonize``): a SinGAN learns the background image alone, then re-renders the naive
composite from a fine scale so the pasted blob takes on the background's colours and grain."""

import numpy as np
import torch

from vipseg.registry import MODELS


class SinGANHarmonizer:
    """``harmonizer(background, composite, mask, seed)``: fit a fresh :class:`SinGAN` (built
    from ``singan_cfg``) on ``background``, then ``harmonize(composite, mask)``.

    One SinGAN per image is the method's cost (docs/generative.md gives the time per image).
    The fit and the noise draw from ``seed`` inside a forked RNG, so the result does not
    depend on what ran before and the caller's random stream is left as it was.

    Args:
        singan_cfg: a MODELS config of type ``SinGAN`` (its ``device`` is set here).
        device: where the SinGAN trains; None: CUDA if available, else the CPU.
        injection_scale: passed to ``SinGAN.harmonize`` (None: its default).
    """

    def __init__(self, singan_cfg: dict, device: str | None = None, injection_scale=None):
        self.cfg = dict(singan_cfg, device=device)
        self.injection_scale = injection_scale
        MODELS.build(self.cfg)  # a bad config fails here, before any image is written

    def __call__(
        self, background: np.ndarray, composite: np.ndarray, mask: np.ndarray, seed: int
    ) -> np.ndarray:
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            model = MODELS.build(self.cfg)
            model.fit(background)
            return model.harmonize(composite, mask, self.injection_scale)
