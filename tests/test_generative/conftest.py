"""A tiny SPADE config on the toy city, and a generator trained a few iterations with it."""

import pytest

from vipseg.utils import load_config

GAN_CONFIG = "configs/generative/spade_minicity.py"
# Toy-city frames of 128x256 resized to 32x64; networks a few channels wide.
TINY_GAN = {
    "train_dataloader.dataset.pipeline.2.scale": (64, 32),
    "gan_cfg.render_scale": (64, 32),
    "generator.base_channels": 2,
    "generator.num_up": 3,
    "generator.hidden_channels": 4,
    "generator.z_dim": 2,
    "discriminator.base_channels": 4,
    "discriminator.num_layers": 2,
    "train_dataloader.batch_size": 2,
    "train_dataloader.num_workers": 0,
    "train_dataloader.persistent_workers": False,
    "gan_cfg.max_iters": 4,
    "gan_cfg.log_interval": 2,
    "gan_cfg.sample_interval": 2,
    "gan_cfg.checkpoint_interval": 2,
    "gan_cfg.num_samples": 2,
}


def tiny_gan_cfg(data_root, **extra):
    """The MiniCity SPADE config shrunk to the toy city (``extra``: more overrides)."""
    from vipseg.utils import set_data_root

    cfg = load_config(GAN_CONFIG, {**TINY_GAN, **extra})
    set_data_root(cfg, str(data_root))
    return cfg


def tiny_gan_options(**extra) -> list[str]:
    """``TINY_GAN`` as ``--cfg-options`` strings for the tools."""
    options = {**TINY_GAN, **extra}
    return [f"{k}={v}".replace(" ", "") for k, v in options.items()]


@pytest.fixture(scope="session")
def tiny_spade_run(toycity_root, tmp_path_factory):
    """``(cfg, work_dir, checkpoint)`` of 4 tiny SPADE iterations on the toy city."""
    from vipseg.generative.train_loop import train_spade

    cfg = tiny_gan_cfg(toycity_root)
    work_dir = tmp_path_factory.mktemp("spade")
    checkpoint = train_spade(cfg, str(work_dir))
    return cfg, work_dir, checkpoint
