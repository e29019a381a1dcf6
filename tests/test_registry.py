"""Every registered vipseg class builds from a minimal config (timm-style, automatic)."""

import cv2
import numpy as np
import pytest
import torch

from vipseg import registry as vr

REGISTRIES = (
    vr.DATASETS,
    vr.TRANSFORMS,
    vr.MODELS,
    vr.METRICS,
    vr.HOOKS,
    vr.VISUALIZERS,
    vr.VISBACKENDS,
    vr.LOG_PROCESSORS,
    vr.OPTIM_WRAPPERS,
)

# The smallest arguments each registered class needs. A newly registered class without an
# entry here fails test_every_registered_class_has_a_minimal_config.
MINIMAL = {
    "ResNet": dict(depth=18, base_channels=4, stem_channels=4),
    "ASPPHead": dict(in_channels=8, channels=4, num_classes=3),
    "FCNHead": dict(in_channels=8, channels=4, num_classes=3),
    "ACFHead": dict(in_channels=8, channels=4, num_classes=3, acf_channels=4),
    # timm is in requirements/tests.txt; the smallest feature pyramid of a common model.
    "TimmBackbone": dict(model_name="resnet18", out_indices=(4,)),
    "DeepLabV3PlusHead": dict(in_channels=8, channels=4, num_classes=3, c1_in_channels=4),
    "EvoNormB0": dict(num_features=4),
    "EvoNormS0": dict(num_features=4, groups=2),
    "CrossEntropyLoss": dict(),
    "OhemCrossEntropyLoss": dict(),
    "FocalLoss": dict(),
    "LovaszLoss": dict(),
    "FocalTverskyLoss": dict(),
    "DiceLoss": dict(),
    "SegDataPreProcessor": dict(),
    "CutMix": dict(),
    "ClassMix": dict(),
    "CopyBlob": dict(),
    "EncoderDecoder": dict(
        backbone=dict(type="ResNet", depth=18, base_channels=4, stem_channels=4),
        decode_head=dict(type="ASPPHead", in_channels=32, channels=4, num_classes=3),
    ),
    "SegTTAModel": dict(
        module=dict(
            type="EncoderDecoder",
            backbone=dict(type="ResNet", depth=18, base_channels=4, stem_channels=4),
            decode_head=dict(type="ASPPHead", in_channels=32, channels=4, num_classes=3),
        )
    ),
    "SegCRFModel": dict(
        module=dict(
            type="EncoderDecoder",
            backbone=dict(type="ResNet", depth=18, base_channels=4, stem_channels=4),
            decode_head=dict(type="ASPPHead", in_channels=32, channels=4, num_classes=3),
        ),
        crf=dict(type="DenseCRF"),
    ),
    "LoadImageFromFile": dict(),
    "LoadAnnotations": dict(),
    "Resize": dict(scale=(64, 32)),
    "RandomResize": dict(scale=(64, 32), ratio_range=(0.5, 2.0)),
    "RandomCrop": dict(crop_size=(16, 16)),
    "RandomFlip": dict(prob=0.5),
    "PhotoMetricDistortion": dict(),
    "Pad": dict(size=(32, 32)),
    "PackSegInputs": dict(),
    "IoUMetric": dict(class_names=("a", "b")),
    "CityscapesMetric": dict(),
    "CityscapesSubmissionHook": dict(out_dir="preds"),
    "SegVisualizationHook": dict(),
    "GradNormHook": dict(),
    "ProgressBarHook": dict(),
    "SegRuntimeInfoHook": dict(),
    "SegCheckpointHook": dict(interval=2, by_epoch=False),
    "NonFiniteCheckHook": dict(),
    "SegLogProcessor": dict(),
    "SegAmpOptimWrapper": dict(
        optimizer=torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ),
    "SegWandbVisBackend": dict(save_dir="unused"),  # writes nothing until first used
    "SegLocalVisualizer": dict(name="minimal_test_visualizer"),
    # Datasets read files; their arguments are completed by the data fixtures below.
    "BaseSegDataset": dict(data_prefix=dict(img_path="img", seg_map_path="ann")),
    "CityscapesDataset": dict(
        data_prefix=dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train")
    ),
    "CamVidDataset": dict(data_prefix=dict(img_path="img", seg_map_path="ann")),
    # The flat fixture's labels are all class 0, 64 pixels per image.
    "RareClassSampling": dict(
        dataset=dict(type="CamVidDataset", data_prefix=dict(img_path="img", seg_map_path="ann")),
        min_pixels=1,
    ),
    "RealSyntheticMix": dict(
        dataset=dict(type="CamVidDataset", data_prefix=dict(img_path="img", seg_map_path="ann")),
        synthetic=dict(type="CamVidDataset", data_prefix=dict(img_path="img", seg_map_path="ann")),
    ),
    "SPADEGenerator": dict(num_classes=3, base_channels=2, num_up=2, hidden_channels=4),
    "MultiScalePatchDiscriminator": dict(in_channels=7, base_channels=4, num_layers=2),
    "OASISDiscriminator": dict(num_classes=3, base_channels=2, num_down=2),
    "SinGAN": dict(max_size=32, min_size=8, channels=4, iters_per_scale=1),
    "UNet": dict(base_channels=4),
    "AttentionUNet": dict(base_channels=4),
    "DeviceRandomResize": dict(scale=(64, 32), ratio_range=(0.5, 2.0)),
    "DeviceRandomCrop": dict(crop_size=(16, 16)),
    "DeviceRandomFlip": dict(),
    "DevicePhotoMetricDistortion": dict(),
    "DenseCRF": dict(),
}


def _entries():
    for registry in REGISTRIES:
        registry.import_from_location()
        for name in sorted(registry.module_dict):
            yield pytest.param(registry, name, id=f"{registry.name}:{name}")


@pytest.fixture(scope="module")
def flat_root(tmp_path_factory):
    """img/ and ann/ with two 8x8 images, as BaseSegDataset and CamVidDataset read them."""
    root = tmp_path_factory.mktemp("flat")
    for sub in ("img", "ann"):
        (root / sub).mkdir()
    for i in range(2):
        cv2.imwrite(str(root / "img" / f"{i}.jpg"), np.zeros((8, 8, 3), np.uint8))
        cv2.imwrite(str(root / "ann" / f"{i}.png"), np.zeros((8, 8), np.uint8))
    return root


def _point_at_fixtures(cfg: dict, toycity_root, flat_root) -> None:
    """Set the data roots of the datasets that read files: a wrapper's inner ones (copied,
    so MINIMAL is not changed)."""
    wrapped = [key for key in ("dataset", "synthetic") if key in cfg]
    for key in wrapped:
        cfg[key] = dict(cfg[key])
        _point_at_fixtures(cfg[key], toycity_root, flat_root)
    if not wrapped:
        kind = cfg["type"]
        cfg["data_root"] = str(toycity_root if kind == "CityscapesDataset" else flat_root)


def test_every_registered_class_has_a_minimal_config():
    names = {name for registry in REGISTRIES for name in registry.module_dict}
    assert names == set(MINIMAL), "add new registered classes to MINIMAL"


@pytest.mark.parametrize(("registry", "name"), list(_entries()))
def test_registered_class_builds(registry, name, toycity_root, flat_root):
    cfg = dict(type=name, **MINIMAL[name])
    if registry is vr.DATASETS:
        _point_at_fixtures(cfg, toycity_root, flat_root)
    obj = registry.build(cfg)
    assert isinstance(obj, registry.get(name))
    if registry is vr.DATASETS:
        assert len(obj) >= 2


def test_registry_miss_lists_known_names():
    with pytest.raises(KeyError, match="'ResNett' is not registered.*vipseg names: .*ResNet"):
        vr.MODELS.build(dict(type="ResNett"))
    assert "ResNett" not in vr.MODELS and "ResNet" in vr.MODELS


def test_registries_are_children_of_mmengine_in_the_vipseg_scope():
    from mmengine.registry import MODELS as ROOT

    assert vr.MODELS.parent is ROOT and vr.MODELS.scope == "vipseg"
    assert ROOT.get("vipseg.ResNet") is vr.MODELS.get("ResNet")
    for registry in REGISTRIES:
        assert registry.doc
