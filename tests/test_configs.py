"""Every config under configs/ builds its model and runs loss and predict on a tiny input."""

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData

from vipseg.registry import MODELS
from vipseg.structures import SegDataSample
from vipseg.utils import check_config_types

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
LEAF_CONFIGS = sorted(p for p in CONFIG_DIR.rglob("*.py") if "_base_" not in p.parts)
# GAN configs (configs/generative/spade_*) have a generator instead of a segmentor.
GAN_CONFIGS = [p for p in LEAF_CONFIGS if "generator" in Config.fromfile(str(p))]
SEG_CONFIGS = [p for p in LEAF_CONFIGS if p not in GAN_CONFIGS]


def _config_id(path: Path) -> str:
    return str(path.relative_to(CONFIG_DIR).with_suffix(""))


def _depth_to_base(path: Path) -> int:
    """Levels of leaf-to-leaf inheritance before a config reaches only _base_ files."""
    base = Config._get_base_files(str(path)) if hasattr(Config, "_get_base_files") else []
    leaves = [b for b in base if "_base_" not in b]
    return 0 if not leaves else 1 + max(_depth_to_base(path.parent / b) for b in leaves)


def test_there_are_the_required_configs():
    names = {p.name for p in LEAF_CONFIGS}
    assert {
        "deeplabv3_r101_minicity.py",
        "deeplabv3_r50_minicity.py",
        "deeplabv3_r18_minicity.py",
        "deeplabv3_r50_camvid.py",
        "deeplabv3_r18_toycity.py",
    } <= names


@pytest.mark.parametrize("path", SEG_CONFIGS, ids=_config_id)
def test_config_builds_and_runs(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == "vipseg"
    check_config_types(cfg)
    assert _depth_to_base(path) <= 1
    model = MODELS.build(cfg.model)
    num_classes = cfg.model.decode_head.num_classes
    h, w = 32, 48
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w)))
        samples.append(sample)
    data = dict(
        inputs=[torch.randint(0, 255, (3, h, w), dtype=torch.uint8)] * 2, data_samples=samples
    )
    # Tiny inputs, not the config's crop size: only the wiring is under test here. A device
    # pipeline has been built (so its config is valid); it resizes to the crop size, so it is
    # dropped here and tested in tests/test_models/test_device_transforms.py.
    model.data_preprocessor.size = None
    model.data_preprocessor.device_pipeline = []
    model.train()
    batch = model.data_preprocessor(data, training=True)
    losses = model(**batch, mode="loss")
    assert all(torch.isfinite(v) for v in losses.values())
    sum(v for k, v in losses.items() if "loss" in k).backward()
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, training=False), mode="predict")
    assert out[0].pred_sem_seg.shape == (h, w)
    assert int(out[0].pred_sem_seg.data.max()) < num_classes


@pytest.mark.parametrize("path", GAN_CONFIGS, ids=_config_id)
def test_gan_config_builds_and_trains_a_step(path):
    from vipseg.generative.train_loop import gan_settings, make_trainer

    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == "vipseg"
    check_config_types(cfg)
    assert _depth_to_base(path) <= 1
    settings = gan_settings(cfg)
    assert len(settings["render_scale"]) == 2
    torch.manual_seed(0)
    trainer = make_trainer(cfg, settings, "cpu", amp=False)
    generator = trainer.generator
    size = 2**generator.num_up  # the smallest input: the coarsest level is 1x1 (BN: batch 2)
    labels = torch.randint(0, generator.num_classes, (2, size, size))
    instances = torch.randint(0, 3, (2, size, size)) if generator.instance_edges else None
    images = torch.rand(2, 3, size, size) * 2 - 1
    losses = trainer.step(images, trainer.encode(labels, instances))
    assert all(torch.isfinite(v) for v in losses.values())


def test_unknown_type_names_the_key(tmp_path):
    from vipseg.utils import ConfigError

    cfg = Config.fromfile(str(CONFIG_DIR / "deeplabv3_r18_toycity.py"))
    cfg.model.backbone.type = "ResNot"
    with pytest.raises(ConfigError, match=r"model\.backbone\.type='ResNot'.*Known: .*ResNet"):
        check_config_types(cfg)
    cfg = Config.fromfile(str(CONFIG_DIR / "deeplabv3_r18_toycity.py"))
    cfg.train_dataloader.dataset.pipeline[2].type = "RandomResise"
    with pytest.raises(ConfigError, match=r"train_dataloader\.dataset\.pipeline\.2\.type"):
        check_config_types(cfg)
    cfg = Config.fromfile(str(CONFIG_DIR / "deeplabv3_r18q_camvid_cpu_rcs.py"))
    cfg.train_dataloader.dataset.dataset.pipeline[3].type = "RandomCropp"
    with pytest.raises(ConfigError, match=r"dataset\.dataset\.pipeline\.3\.type='RandomCropp'"):
        check_config_types(cfg)
