"""Synthesized pairs: the source's layout and stored values, provenance, determinism."""

import json

import cv2
import numpy as np
import pytest

from vipseg.datasets import CamVidDataset, CityscapesDataset
from vipseg.engine.checkpoint_io import safe_load
from vipseg.generative.synthesis import EditPolicy, SPADERenderer, synthesize
from vipseg.registry import MODELS
from vipseg.utils import ConfigError

NO_EDITS = dict(flip_prob=0.0, recombine_prob=0.0, blob_prob=0.0)
PREFIX = dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train")


def _toycity(root):
    return CityscapesDataset(data_root=str(root), data_prefix=PREFIX)


def _label_of(img_path: str, kind: str = "labelIds") -> str:
    """The toy city's label file of an image (Cityscapes names)."""
    path = img_path.replace("/leftImg8bit/", "/gtFine/")
    return path.replace("_leftImg8bit.png", f"_gtFine_{kind}.png")


def _renderer(tiny_spade_run):
    cfg, _, checkpoint = tiny_spade_run
    generator = MODELS.build(cfg.generator)
    generator.load_state_dict(safe_load(checkpoint)["generator"])
    return SPADERenderer(generator, 19, 255, cfg.gan_cfg.render_scale, amp=False)


def _run(root, out, renderer, num=3, **policy):
    policy = EditPolicy(**{"rules": "cityscapes", **policy})
    mode = "spade" if renderer else "copyblob"
    path = synthesize(_toycity(root), str(out), num, policy, mode, seed=1, renderer=renderer)
    return json.loads(open(path).read())


def test_spade_pairs_load_through_the_source_dataset_class(toycity_root, tmp_path, tiny_spade_run):
    manifest = _run(toycity_root, tmp_path, _renderer(tiny_spade_run), num=3)
    assert manifest["mode"] == "spade" and len(manifest["pairs"]) == 3
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations", with_instance=True)]
    synthetic = CityscapesDataset(data_root=str(tmp_path), data_prefix=PREFIX, pipeline=pipeline)
    assert len(synthetic) == 3
    for i, record in enumerate(manifest["pairs"]):
        assert record["img_path"] == f"leftImg8bit/train/synthetic/syn_{i:06d}_leftImg8bit.png"
        assert record["instance_map_path"].endswith(f"syn_{i:06d}_gtFine_instanceIds.png")
        item = synthetic[i]
        assert item["img"].shape == (128, 256, 3)  # rendered at 32x64, back at the source size
        assert item["gt_seg_map"].shape == item["gt_instance_map"].shape == (128, 256)
        assert "z_seed" in record and record["base"].startswith(str(toycity_root))


def test_unedited_label_maps_are_written_byte_for_byte(toycity_root, tmp_path, tiny_spade_run):
    manifest = _run(toycity_root, tmp_path, _renderer(tiny_spade_run), num=2, **NO_EDITS)
    for record in manifest["pairs"]:
        for key, kind in (("seg_map_path", "labelIds"), ("instance_map_path", "instanceIds")):
            original = _label_of(record["base"], kind)
            written = cv2.imread(str(tmp_path / record[key]), cv2.IMREAD_UNCHANGED)
            assert np.array_equal(written, cv2.imread(original, cv2.IMREAD_UNCHANGED))
        assert set(record) == {"img_path", "seg_map_path", "instance_map_path", "base", "z_seed"}


def test_copyblob_pastes_real_pixels_and_records_them(toycity_root, tmp_path):
    # cars (13) onto road (0), in every pair; no other edit
    manifest = _run(
        toycity_root, tmp_path, None, num=4, **{**NO_EDITS, "blob_prob": 1.0}, rules=[(13, 0)]
    )
    pasted_any = False
    for record in manifest["pairs"]:
        base_img = cv2.imread(record["base"])
        img = cv2.imread(str(tmp_path / record["img_path"]))
        base_lab = cv2.imread(_label_of(record["base"]), cv2.IMREAD_UNCHANGED)
        lab = cv2.imread(str(tmp_path / record["seg_map_path"]), cv2.IMREAD_UNCHANGED)
        changed = lab != base_lab
        assert (base_lab[changed] == 7).all() and (lab[changed] == 26).all()  # road -> car IDs
        assert np.array_equal(img[~changed], base_img[~changed])  # PNG: lossless
        if "blobs" in record:
            pasted_any = True
            assert sum(b["pixels"] for b in record["blobs"]) == int(changed.sum())
            assert all(b["src"] == 13 and b["dst"] == 0 for b in record["blobs"])
    assert pasted_any


def test_same_seed_same_pairs(toycity_root, tmp_path, tiny_spade_run):
    renderer = _renderer(tiny_spade_run)
    a = _run(toycity_root, tmp_path / "a", renderer)
    b = _run(toycity_root, tmp_path / "b", renderer)
    assert a["pairs"] == b["pairs"]
    for record in a["pairs"]:
        for key in ("img_path", "seg_map_path"):
            assert (tmp_path / "a" / record[key]).read_bytes() == (
                tmp_path / "b" / record[key]
            ).read_bytes()


def test_camvid_layout_jpeg_images(tmp_path):
    src = tmp_path / "camvid"
    for sub in ("img_dir/train", "ann_dir/train"):
        (src / sub).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        label = np.full((24, 32), 4, np.uint8)
        label[4:10, 5 + i : 12 + i] = 9  # a pedestrian on pavement
        label[0, 0] = 255
        cv2.imwrite(
            str(src / f"img_dir/train/{i}.jpg"), rng.integers(0, 255, (24, 32, 3), np.uint8)
        )
        cv2.imwrite(str(src / f"ann_dir/train/{i}.png"), label)
    prefix = dict(img_path="img_dir/train", seg_map_path="ann_dir/train")
    dataset = CamVidDataset(data_root=str(src), data_prefix=prefix)
    policy = EditPolicy(rules="camvid", blob_prob=1.0, min_pixels=4)
    synthesize(dataset, str(tmp_path / "out"), 3, policy, "copyblob", seed=0)
    out = CamVidDataset(data_root=str(tmp_path / "out"), data_prefix=prefix)
    assert len(out) == 3
    assert sorted(p.name for p in (tmp_path / "out/img_dir/train/synthetic").iterdir()) == [
        "syn_000000.jpg",
        "syn_000001.jpg",
        "syn_000002.jpg",
    ]
    for i in range(3):
        label = cv2.imread(out.get_data_info(i)["seg_map_path"], cv2.IMREAD_UNCHANGED)
        assert set(np.unique(label)) <= {4, 9, 255}


def test_errors_name_the_problem(toycity_root, tmp_path, tiny_spade_run):
    dataset = _toycity(toycity_root)
    with pytest.raises(ConfigError, match="needs a renderer"):
        synthesize(dataset, str(tmp_path), 1, EditPolicy(), "spade")
    with pytest.raises(ConfigError, match="mode must be"):
        synthesize(dataset, str(tmp_path), 1, EditPolicy(), "gan")
    with pytest.raises(ConfigError, match=r"blob_prob must be in \[0, 1\]"):
        EditPolicy(blob_prob=2)
    _run(toycity_root, tmp_path / "once", None, num=1)
    with pytest.raises(ConfigError, match="is not empty"):
        _run(toycity_root, tmp_path / "once", None, num=1)


def test_harmonized_copyblob_changes_the_image_only_around_the_pastes(toycity_root, tmp_path):
    from vipseg.generative.harmonize import SinGANHarmonizer

    singan = dict(type="SinGAN", max_size=64, min_size=12, channels=4, iters_per_scale=2)
    harmonizer = SinGANHarmonizer(singan, device="cpu")
    policy = EditPolicy(**{**NO_EDITS, "blob_prob": 1.0}, rules=[(13, 0)])
    dataset = _toycity(toycity_root)
    naive = synthesize(dataset, str(tmp_path / "a"), 3, policy, "copyblob", seed=2)
    harmonized = synthesize(
        dataset, str(tmp_path / "b"), 3, policy, "copyblob", seed=2, harmonizer=harmonizer
    )
    pairs_a = json.loads(open(naive).read())["pairs"]
    pairs_b = json.loads(open(harmonized).read())["pairs"]
    checked = 0
    for a, b in zip(pairs_a, pairs_b, strict=True):
        assert a["blobs"] == b["blobs"]  # the harmonizer does not change the edits
        label_a = cv2.imread(str(tmp_path / "a" / a["seg_map_path"]), cv2.IMREAD_UNCHANGED)
        label_b = cv2.imread(str(tmp_path / "b" / b["seg_map_path"]), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(label_a, label_b)
        pasted = (label_a != cv2.imread(_label_of(a["base"]), cv2.IMREAD_UNCHANGED)).astype(
            np.uint8
        )
        if not pasted.any():
            continue
        checked += 1
        assert "harmonize_seed" in b and "harmonize_seed" not in a
        img_a = cv2.imread(str(tmp_path / "a" / a["img_path"])).astype(int)
        img_b = cv2.imread(str(tmp_path / "b" / b["img_path"])).astype(int)
        # SinGAN's blend reaches mask_dilation + mask_feather = 6 px beyond the paste
        band = cv2.dilate(pasted, np.ones((15, 15), np.uint8)).astype(bool)
        assert np.array_equal(img_a[~band], img_b[~band])
        assert np.abs(img_a - img_b)[pasted.astype(bool)].mean() > 1
    assert checked
