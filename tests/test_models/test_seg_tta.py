"""SegTTAModel and the TTA pipeline: merging, un-flipping, batches, and tools/test.py --tta."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import PixelData

from vipseg.datasets.transforms import PackSegInputs, Resize
from vipseg.registry import DATASETS, MODELS, TRANSFORMS
from vipseg.structures import SegDataSample

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"
TTA_BASE = REPO / "configs/_base_/tta_cityscapes.py"
NUM_CLASSES = 5


def _model(**test_cfg):
    torch.manual_seed(0)
    cfg = dict(
        type="EncoderDecoder",
        backbone=dict(type="ResNet", depth=18, base_channels=8, stem_channels=8),
        decode_head=dict(type="ASPPHead", in_channels=64, channels=8, num_classes=NUM_CLASSES),
    )
    if test_cfg:
        cfg["test_cfg"] = test_cfg
    return MODELS.build(cfg).eval()


def _image(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _results(img, path="a.png", gt=None):
    results = dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2], img_path=path)
    if gt is not None:
        # Not in seg_fields, as LoadAnnotations after resize and flip leaves them: original size.
        results["gt_seg_map"] = gt
        results["gt_instance_map"] = gt.astype(np.int32) * 1000 + 7
    return results


def _views(results, ratios=(1.0,), flips=(False,)):
    """One image's TTA views, as the config's TestTimeAug makes them."""
    aug = TRANSFORMS.build(
        dict(
            type="TestTimeAug",
            transforms=[
                [dict(type="Resize", scale_factor=r, keep_ratio=True) for r in ratios],
                [dict(type="RandomFlip", prob=float(f), direction="horizontal") for f in flips],
                [dict(type="PackSegInputs")],
            ],
        )
    )
    return aug(results)


def _plain(model, img):
    with torch.no_grad():
        return model.test_step(pseudo_collate([PackSegInputs()(_results(img))]))[0]


def _tta(model, *views):
    with torch.no_grad():
        return MODELS.build(dict(type="SegTTAModel", module=model)).test_step(
            pseudo_collate(list(views))
        )


def _sample(probs, path):
    """A predicted view whose softmax is ``probs`` (K, H, W); logits shifted per view."""
    sample = SegDataSample(metainfo=dict(img_path=path, ori_shape=probs.shape[1:]))
    sample.seg_logits = PixelData(data=torch.tensor(probs).log() + 5.0)
    sample.gt_sem_seg = PixelData(data=torch.tensor([[[2, 255]]]))
    return sample


def test_merge_preds_averages_softmax_probabilities():
    # Pixel 0: averaging probabilities picks class 0; averaging the logits would pick class 1
    # (mean log-probs -3.60, -1.09, -3.75). Pixel 1: plain average (0.2, 0.5, 0.3).
    view1 = np.array([[0.75, 0.2], [0.249, 0.3], [0.001, 0.5]])[:, None]
    view2 = np.array([[0.001, 0.2], [0.45, 0.7], [0.549, 0.1]])[:, None]
    other = np.array([[0.1], [0.1], [0.8]])[:, None]
    tta = MODELS.build(dict(type="SegTTAModel", module=_model()))
    merged = tta.merge_preds(
        [[_sample(view1, "a.png"), _sample(view2, "a.png")], [_sample(other, "b.png")]]
    )
    assert len(merged) == 2
    expected = torch.tensor([[0.3755, 0.2], [0.3495, 0.5], [0.275, 0.3]])[:, None]
    assert torch.allclose(merged[0].seg_logits.data.float(), expected, atol=1e-6)
    assert merged[0].pred_sem_seg.data.tolist() == [[[0, 1]]]
    assert merged[1].pred_sem_seg.data.tolist() == [[[2]]]
    assert merged[0].img_path == "a.png" and merged[1].img_path == "b.png"
    assert merged[0].gt_sem_seg.data.tolist() == [[[2, 255]]]


@pytest.mark.parametrize(
    "test_cfg", [dict(), dict(mode="slide", crop_size=(16, 16), stride=(8, 8))], ids=str
)
def test_single_view_equals_the_plain_model(test_cfg):
    model, img = _model(**test_cfg), _image(40, 56)
    plain = _plain(model, img)
    merged = _tta(model, _views(_results(img)))[0]
    assert torch.equal(merged.pred_sem_seg.data, plain.pred_sem_seg.data)
    probs = plain.seg_logits.data.softmax(dim=0)
    assert torch.allclose(merged.seg_logits.data, probs, atol=1e-6)


def test_flipped_view_is_flipped_back():
    model, img = _model(), _image(40, 56)
    merged = _tta(model, _views(_results(img), flips=(True,)))[0]
    on_flipped = _plain(model, np.ascontiguousarray(img[:, ::-1])).seg_logits.data
    expected = on_flipped.softmax(dim=0).flip(-1)
    assert torch.allclose(merged.seg_logits.data, expected, atol=1e-6)
    assert torch.equal(merged.pred_sem_seg.data, expected.max(dim=0, keepdim=True).indices)
    # The model is not flip-invariant, so a missing un-flip would be caught above.
    unflipped = _plain(model, img).seg_logits.data.softmax(dim=0)
    assert not torch.allclose(expected, unflipped, atol=1e-3)


def test_batch_of_two_sizes_gives_one_sample_per_image_at_its_size():
    rng = np.random.default_rng(0)
    shapes = [(36, 52), (44, 64)]
    gts = [rng.integers(0, NUM_CLASSES, shape).astype(np.uint8) for shape in shapes]
    views = [
        _views(_results(_image(*shape, seed=i), f"{i}.png", gt), (0.5, 1.0), (False, True))
        for i, (shape, gt) in enumerate(zip(shapes, gts))
    ]
    merged = _tta(_model(), *views)
    assert [s.img_path for s in merged] == ["0.png", "1.png"]
    for sample, shape, gt in zip(merged, shapes, gts):
        assert sample.pred_sem_seg.shape == shape
        assert sample.seg_logits.data.shape == (NUM_CLASSES, *shape)
        assert torch.allclose(sample.seg_logits.data.sum(0), torch.ones(shape), atol=1e-5)
        # The loader's labels, not the first (half-size) view's, cropped by the preprocessor.
        assert torch.equal(sample.gt_sem_seg.data[0], torch.from_numpy(gt).long())
        assert torch.equal(sample.gt_instance_map.data[0], torch.from_numpy(gt).long() * 1000 + 7)


def test_tta_pipeline_makes_every_scale_and_flip(toycity_root):
    cfg = Config.fromfile(str(TTA_BASE))
    assert cfg.img_ratios == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.2]
    dataset = DATASETS.build(
        dict(
            type="CityscapesDataset",
            data_root=str(toycity_root),
            data_prefix=dict(img_path="leftImg8bit/val", seg_map_path="gtFine/val"),
            pipeline=cfg.tta_pipeline,
        )
    )
    item = dataset[0]
    assert len(item["inputs"]) == len(item["data_samples"]) == 16
    for i, (img, sample) in enumerate(zip(item["inputs"], item["data_samples"])):
        ratio, flip = cfg.img_ratios[i // 2], bool(i % 2)
        assert img.shape[1:] == (math.floor(128 * ratio + 0.5), math.floor(256 * ratio + 0.5))
        assert sample.flip is flip and sample.ori_shape == (128, 256)
        assert sample.gt_sem_seg.shape == sample.gt_instance_map.shape == (128, 256)


def test_resize_by_scale_factor():
    out = Resize(scale_factor=0.75)(dict(img=np.zeros((10, 22, 3), np.uint8)))
    # mmcv's rounding: int(22 * 0.75 + 0.5) = 17, int(10 * 0.75 + 0.5) = 8.
    assert out["img"].shape == (8, 17, 3) and out["img_shape"] == (8, 17)
    assert out["scale_factor"] == (17 / 22, 8 / 10)
    for bad in [dict(), dict(scale=(4, 4), scale_factor=2.0), dict(scale_factor=0)]:
        with pytest.raises(ValueError):
            Resize(**bad)


def test_tta_flag_wraps_the_model_and_uses_the_default_or_own_settings(tmp_path, test_tool):
    tool = test_tool
    ckpt = tmp_path / "fake.pth"
    ckpt.touch()
    option = "tta_pipeline.1.transforms.0.7.scale_factor=3.0"
    args = tool.parse_args([CONFIG, str(ckpt), "--tta", "--cfg-options", option])
    cfg = tool.build_cfg(args)
    assert cfg.model.type == "SegTTAModel" and cfg.model.module.type == "EncoderDecoder"
    resizes = cfg.test_dataloader.dataset.pipeline[1].transforms[0]
    assert [r.scale_factor for r in resizes] == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 3.0]
    own = tmp_path / "own_tta.py"
    own.write_text(
        f"_base_ = {str(REPO / CONFIG)!r}\n"
        "tta_pipeline = [dict(type='LoadImageFromFile'), dict(type='TestTimeAug', "
        "transforms=[[dict(type='Resize', scale_factor=1.5)], [dict(type='PackSegInputs')]])]\n"
    )
    cfg = tool.build_cfg(tool.parse_args([str(own), str(ckpt), "--tta"]))
    assert cfg.test_dataloader.dataset.pipeline[1].transforms[0][0].scale_factor == 1.5
    assert cfg.model.type == "SegTTAModel"
    plain = tool.build_cfg(tool.parse_args([CONFIG, str(ckpt)]))
    assert plain.model.type == "EncoderDecoder"


def test_test_tool_with_tta_end_to_end(toycity_root, tmp_path, init_checkpoint, run_tool):
    options = ["test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"]
    args = [CONFIG, init_checkpoint, "--tta", "--work-dir", str(tmp_path / "work")]
    args += ["--data-root", str(toycity_root), "--cfg-options", *options]
    result = run_tool(["tools/test.py", *args])
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "mIoU" in log
    assert "SegTTAModel" in log and "TestTimeAug" in log  # the dumped config: TTA was on
