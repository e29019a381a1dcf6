"""SPADETrainer steps and the resumable training loop of tools/generative/train_spade.py."""

import json

import cv2
import numpy as np
import pytest
import torch

from vipseg.engine.checkpoint_io import safe_load
from vipseg.generative import MultiScalePatchDiscriminator, SPADEGenerator, SPADETrainer
from vipseg.generative.train_loop import gan_settings, train_spade
from vipseg.utils import ConfigError, TrainingError

from .conftest import tiny_gan_cfg, tiny_gan_options


def _trainer(**kwargs):
    torch.manual_seed(0)
    g = SPADEGenerator(num_classes=3, base_channels=4, num_up=2, hidden_channels=8)
    d = MultiScalePatchDiscriminator(in_channels=7, base_channels=8, num_layers=2)
    return SPADETrainer(g, d, num_classes=3, **kwargs)


def _pair(h=16, w=16):
    labels = torch.zeros(1, h, w, dtype=torch.long)
    labels[:, h // 2 :] = 1
    labels[:, :, : w // 4] = 2
    palette = torch.tensor([[0.8, -0.8, -0.8], [-0.8, 0.8, -0.8], [-0.8, -0.8, 0.8]])
    images = palette[labels].permute(0, 3, 1, 2)
    return images, labels


def test_a_step_updates_both_networks_with_finite_losses():
    trainer = _trainer()
    images, labels = _pair()
    g0 = [p.detach().clone() for p in trainer.generator.parameters()]
    d0 = [p.detach().clone() for p in trainer.discriminator.parameters()]
    losses = trainer.step(images, trainer.encode(labels))
    assert set(losses) == {
        "loss_g",
        "loss_g_gan",
        "loss_g_fm",
        "loss_d",
        "loss_d_real",
        "loss_d_fake",
    }
    assert all(torch.isfinite(v) and not v.requires_grad for v in losses.values())
    assert losses["loss_g"] == pytest.approx(losses["loss_g_gan"] + 10 * losses["loss_g_fm"])
    assert losses["loss_d"] == pytest.approx(losses["loss_d_real"] + losses["loss_d_fake"])
    assert all(not torch.equal(a, b) for a, b in zip(g0, trainer.generator.parameters()))
    # The hinge loss's gradient on a scale's output bias is (fake patches above -1 minus real
    # patches below 1) / patches: exactly 0 while every patch is inside the margin, as after
    # one step, so Adam leaves that bias alone; every other discriminator weight must move.
    named = trainer.discriminator.named_parameters()
    still = [n for (n, p), p0 in zip(named, d0) if torch.equal(p, p0)]
    assert set(still) <= {f"scales.{i}.layers.2.bias" for i in range(2)}, still
    assert trainer.opt_g.param_groups[0]["lr"] == 1e-4
    assert trainer.opt_d.param_groups[0]["lr"] == 4e-4
    assert trainer.opt_g.param_groups[0]["betas"] == (0.0, 0.9)


def test_the_generator_learns_a_fixed_pair():
    """On one label map, feature matching pulls renderings towards the image: the distance
    to the target falls well below the untrained generator's."""
    trainer = _trainer(lr_g=1e-3)
    images, labels = _pair()
    seg = trainer.encode(labels)
    before = (trainer.render(seg) - images).abs().mean().item()
    for _ in range(60):
        trainer.step(images, seg)
    after = (trainer.render(seg) - images).abs().mean().item()
    assert after < 0.6 * before, (before, after)


def test_bf16_autocast_step_is_finite():
    trainer = _trainer(amp=True)
    images, labels = _pair()
    losses = trainer.step(images, trainer.encode(labels))
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())


def test_the_loop_writes_checkpoints_grids_and_logs(tiny_spade_run):
    cfg, work_dir, checkpoint = tiny_spade_run
    assert checkpoint == str(work_dir / "iter_4.pth")
    assert (work_dir / "last_checkpoint").read_text() == checkpoint
    assert sorted(p.name for p in work_dir.glob("iter_*.pth")) == ["iter_2.pth", "iter_4.pth"]
    state = safe_load(checkpoint)
    assert state["iteration"] == 4 and set(state) >= {"generator", "discriminator", "opt_g"}
    grid = cv2.imread(str(work_dir / "samples" / "iter_4.png"))
    # two samples of 32x64; label | real | two noise renderings
    assert grid.shape == (2 * 32, 4 * 64, 3)
    (log,) = work_dir.glob("*/vis_data/scalars.json")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    assert all(np.isfinite(r["loss_g"]) and np.isfinite(r["loss_d"]) for r in rows)


def test_resume_reproduces_the_uninterrupted_run(toycity_root, tmp_path, tiny_spade_run):
    _, _, full = tiny_spade_run
    cfg = tiny_gan_cfg(toycity_root, **{"gan_cfg.max_iters": 2})
    train_spade(cfg, str(tmp_path))
    cfg = tiny_gan_cfg(toycity_root)
    resumed = train_spade(cfg, str(tmp_path), resume="auto")
    a, b = safe_load(full)["generator"], safe_load(resumed)["generator"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    # and the resumed run did continue: iteration 2's weights differ from iteration 4's
    two = safe_load(str(tmp_path / "iter_2.pth"))["generator"]
    assert any(not torch.equal(a[k], two[k]) for k in a)


def test_unknown_gan_cfg_key_and_mismatched_discriminator(toycity_root, tmp_path):
    cfg = tiny_gan_cfg(toycity_root, **{"gan_cfg.max_iter": 3})
    with pytest.raises(ConfigError, match=r"unknown gan_cfg keys \['max_iter'\]"):
        gan_settings(cfg)
    cfg = tiny_gan_cfg(toycity_root, **{"discriminator.in_channels": 9})
    with pytest.raises(ConfigError, match="discriminator.in_channels=9 .* 3 \\+ 21 = 24"):
        train_spade(cfg, str(tmp_path))
    assert not list(tmp_path.iterdir())  # nothing written for a config that cannot work


def test_non_finite_losses_stop_the_run(toycity_root, tmp_path, monkeypatch):
    def broken_step(self, images, seg):
        return dict(loss_g=torch.tensor(float("nan")), loss_d=torch.tensor(1.0))

    monkeypatch.setattr(SPADETrainer, "step", broken_step)
    with pytest.raises(TrainingError, match=r"iteration 2: non-finite GAN losses \['loss_g'\]"):
        train_spade(tiny_gan_cfg(toycity_root), str(tmp_path))
    assert not list(tmp_path.glob("iter_*.pth"))


def test_train_spade_tool(toycity_root, tmp_path, run_tool):
    args = ["tools/generative/train_spade.py", "configs/generative/spade_minicity.py"]
    args += ["--work-dir", str(tmp_path), "--data-root", str(toycity_root)]
    result = run_tool([*args, "--cfg-options", *tiny_gan_options()])
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"generator checkpoint {tmp_path / 'iter_4.pth'}" in result.stdout
    bad = run_tool([*args, "--cfg-options", "generator.type=SPADEGen"])
    assert bad.returncode == 2
    assert "generator.type='SPADEGen' is not a registered model" in bad.stderr
