"""Rendering scenes and writing them under Cityscapes file names."""

import shutil
from pathlib import Path

import cv2
import numpy as np

from ..cityscapes_labels import ID_TO_LABEL, NAME_TO_LABEL
from .canvas import Canvas, View, pick, texture
from .objects import scene_objects
from .scenery import ground, roadside, sky_and_buildings

SPLIT_CITIES = {"train": ("toyville", "pixelburg"), "val": ("valdorf",), "test": ("testheim",)}
FRAME = 19  # Cityscapes annotates frame 000019 of each 30-frame snippet
MIN_SIZE = 64  # below this, poles, signs and persons would be a pixel or two

_COLOR_LUT = np.zeros((256, 3), np.uint8)
for _label in ID_TO_LABEL.values():
    _COLOR_LUT[_label.id] = _label.color


def render_scene(rng: np.random.Generator, height: int, width: int):
    """Draw one scene; returns the RGB image, label-ID map (uint8), instance map (int32)."""
    cv, view = Canvas(height, width), View(rng, height, width)
    sky_and_buildings(cv, rng, view)
    street = ground(cv, rng, view)
    veg = texture(rng, view, (58, 104, 42), 14, 24, 4)  # darker and leafier than terrain
    roadside(cv, rng, view, street, veg)
    for z, draw, args in sorted(scene_objects(rng, view, street), key=lambda o: -o[0]):
        draw(cv, rng, view, args[0], z, *args[1:])  # far to near: nearer objects occlude
    if rng.random() < 0.4:  # the ego vehicle's hood: void (id 1), ignored in training
        center = (width * rng.uniform(0.4, 0.6), height)
        axes = (width * 0.75, height * rng.uniform(0.07, 0.11))
        ego = NAME_TO_LABEL["ego vehicle"].id
        cv.ellipse(center, axes, ego, pick(rng, [(38, 40, 46)]), start=180, end=360)
    # Photometric jitter (exposure, white balance) and sensor noise on the finished image.
    gain = rng.uniform(0.85, 1.15) * rng.uniform(0.94, 1.06, 3).astype(np.float32)
    noise = rng.standard_normal((height, width, 3), dtype=np.float32) * 4.0
    img = np.clip(cv.img * gain.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return img, cv.lab, cv.inst


def _check_args(counts: dict[str, int], height: int, width: int, seed: int) -> None:
    for name, value in {**counts, "seed": seed}.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"make_toycity: {name} must be a non-negative integer, got {value!r}")
    if sum(counts.values()) == 0:
        raise ValueError("make_toycity: num_train + num_val + num_test must be positive")
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < MIN_SIZE:
            raise ValueError(
                f"make_toycity: {name} must be an integer >= {MIN_SIZE}, got {value!r}"
            )


def _write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), array):
        raise OSError(f"make_toycity: could not write {path}")


def _write_sample(out: Path, split: str, index: int, img, lab, inst) -> None:
    """Write one image and its three gtFine maps under Cityscapes names."""
    cities = SPLIT_CITIES[split]
    city = cities[index % len(cities)]
    stem = f"{city}_{index // len(cities):06d}_{FRAME:06d}"
    gt = out / "gtFine" / split / city
    _write_png(out / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png", img[..., ::-1])
    _write_png(gt / f"{stem}_gtFine_labelIds.png", lab)
    _write_png(
        gt / f"{stem}_gtFine_instanceIds.png", inst.astype(np.uint16)
    )  # 16-bit, as Cityscapes
    _write_png(gt / f"{stem}_gtFine_color.png", _COLOR_LUT[lab][..., ::-1])  # cv2 wants BGR


def make_toycity(
    out_dir: str | Path,
    num_train: int = 48,
    num_val: int = 16,
    num_test: int = 0,
    height: int = 256,
    width: int = 512,
    seed: int = 0,
    overwrite: bool = False,
) -> dict:
    """Generate the toy city under ``out_dir`` in the Cityscapes layout.

    Image ``i`` of split ``s`` is drawn with ``np.random.default_rng([seed, s, i])``, so the
    same arguments give byte-identical files. Raises ``FileExistsError`` if ``out_dir``
    already has ``leftImg8bit/`` or ``gtFine/`` (``overwrite=True`` deletes both first).

    Returns ``{"out_dir", "counts": {split: n}, "class_fractions": {split: {class: frac}}}``,
    the fractions being each label's share of the split's pixels.
    """
    counts = {"train": num_train, "val": num_val, "test": num_test}
    _check_args(counts, height, width, seed)
    out = Path(out_dir)
    existing = [out / d for d in ("leftImg8bit", "gtFine") if (out / d).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"make_toycity: {existing[0]} already exists; pass overwrite=True "
            f"(--overwrite) to replace leftImg8bit/ and gtFine/"
        )
    for path in existing:
        shutil.rmtree(path)
    fractions = {}
    for split_index, (split, n) in enumerate(counts.items()):
        hist = np.zeros(256, np.int64)
        for i in range(n):
            img, lab, inst = render_scene(
                np.random.default_rng([seed, split_index, i]), height, width
            )
            _write_sample(out, split, i, img, lab, inst)
            hist += np.bincount(lab.ravel(), minlength=256)
        if n:
            fractions[split] = {
                ID_TO_LABEL[k].name: float(hist[k] / hist.sum()) for k in np.flatnonzero(hist)
            }
    return {"out_dir": str(out), "counts": counts, "class_fractions": fractions}
