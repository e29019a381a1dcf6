"""The three steps end to end through the tools: train SPADE, synthesize, train on the mix."""

import json

from conftest import DEMO_CONFIG, REPO, fast_train_for

from .conftest import GAN_CONFIG, tiny_gan_options

MIX_CONFIG = """
_base_ = "{demo}"
toy_train = dict(
    type="CityscapesDataset",
    data_root="data/toycity",
    data_prefix=dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train"),
    pipeline={{{{_base_.train_pipeline}}}},
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type="RealSyntheticMix",
        dataset=toy_train,
        synthetic=dict(toy_train, data_root="{synthetic}"),
        synthetic_ratio=0.5,
    )
)
"""


def test_synthesize_then_train_on_the_mix(toycity_root, tmp_path, tiny_spade_run, run_tool):
    _, _, checkpoint = tiny_spade_run
    out = tmp_path / "synthetic"
    args = ["tools/generative/synthesize.py", GAN_CONFIG, "--checkpoint", checkpoint]
    args += ["--out", str(out), "--num", "4", "--data-root", str(toycity_root)]
    result = run_tool([*args, "--cfg-options", *tiny_gan_options()])
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generator_iteration"] == 4 and manifest["checkpoint"] == checkpoint
    assert len(manifest["pairs"]) == 4
    assert manifest["policy"]["rules"] == [[3, 1], [4, 1], [15, 0], [16, 0]]  # config's preset

    config = tmp_path / "mix.py"
    demo = REPO / DEMO_CONFIG
    config.write_text(MIX_CONFIG.format(demo=demo, synthetic=out))
    train = ["tools/train.py", str(config), "--work-dir", str(tmp_path / "seg")]
    train += ["--data-root", str(toycity_root)]  # val and the real split; not the synthetic
    result = run_tool([*train, "--cfg-options", *fast_train_for(2)])
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "seg" / "iter_2.pth").is_file()


def test_synthesize_errors_are_one_line(toycity_root, tmp_path, run_tool):
    args = ["tools/generative/synthesize.py", GAN_CONFIG, "--out", str(tmp_path / "o")]
    args += ["--num", "2", "--data-root", str(toycity_root)]
    result = run_tool(args)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "vipseg: error: --mode spade needs --checkpoint (from tools/generative/train_spade.py)"
    )
    result = run_tool([*args, "--mode", "copyblob", "--cfg-options", "synthesis_cfg.flip=1"])
    assert result.returncode == 2 and "synthesis_cfg" in result.stderr and "flip" in result.stderr


def test_synthesize_copyblob_harmonize(toycity_root, tmp_path, run_tool):
    out = tmp_path / "harmonized"
    args = ["tools/generative/synthesize.py", GAN_CONFIG, "--mode", "copyblob", "--harmonize"]
    args += ["--out", str(out), "--num", "1", "--data-root", str(toycity_root), "--cfg-options"]
    args += ["synthesis_cfg.blob_prob=1.0", "synthesis_cfg.rules=[[13,0]]"]
    args += ["synthesis_cfg.singan.max_size=48", "synthesis_cfg.singan.min_size=12"]
    args += ["synthesis_cfg.singan.channels=4", "synthesis_cfg.singan.iters_per_scale=1"]
    result = run_tool(args)
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["harmonizer"]["type"] == "SinGAN"
    assert manifest["harmonizer"]["iters_per_scale"] == 1
    assert "harmonize_seed" in manifest["pairs"][0]
