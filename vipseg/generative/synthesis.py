"""Synthesizing training pairs: edited training label maps, rendered by a trained generator
(``mode='spade'``) or with real pixels pasted and optionally harmonized (``'copyblob'``)."""

import json
import os.path as osp
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vipseg.datasets.transforms.geometric import rescale_size, resize_nearest
from vipseg.engine.checkpoint_io import atomic_write
from vipseg.models.batch_augments.copy_blob import _rules
from vipseg.utils.errors import ConfigError

from .label_edits import Pair, flip, insert_blobs, recombine
from .label_input import encode_labels
from .pair_io import LayoutWriter, read_pair
from .sample_grid import to_uint8_rgb


@dataclass
class EditPolicy:
    """Which edits a new label map gets, each drawn independently: a left-right flip
    (``flip_prob``), a recombination with another training label at a vertical cut in the
    middle half (``recombine_prob``), and for each CopyBlob rule ``(src, dst)`` (a preset name
    or pairs, as :class:`CopyBlob`) with ``blob_prob`` the components of ``src`` from a donor
    that shows it pasted onto ``dst`` ground."""

    flip_prob: float = 0.5
    recombine_prob: float = 0.5
    rules: str | Sequence[Sequence[int]] = "cityscapes"
    blob_prob: float = 0.5
    min_pixels: int = 32
    max_blobs: int | None = 3

    def __post_init__(self):
        for name in ("flip_prob", "recombine_prob", "blob_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"synthesis {name} must be in [0, 1], got {getattr(self, name)}")
        self.rules = _rules(self.rules)


class PairSource:
    """The source split's pairs for the edits, read from disk when asked (a MiniCity split held
    in memory with its instance maps would take gigabytes); which pairs show a class is
    counted once, on the first question."""

    def __init__(self, dataset, with_image: bool):
        self.dataset, self.with_image = dataset, with_image
        self._counts: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Pair:
        return read_pair(self.dataset, index, self.with_image)

    def showing(self, cls: int, min_pixels: int) -> np.ndarray:
        """Indices of the pairs with at least ``min_pixels`` of class ``cls``."""
        if self._counts is None:
            labels = (
                read_pair(self.dataset, i, with_image=False).classes for i in range(len(self))
            )
            self._counts = np.stack([np.bincount(c.ravel(), minlength=256) for c in labels])
        return np.flatnonzero(self._counts[:, cls] >= min_pixels)


def edit(source: PairSource, policy: EditPolicy, rng: np.random.Generator):
    """A new pair from the policy; returns it, the mask of pasted pixels and the image before
    the pastes (None without images): the background a harmonizer learns."""
    base_index = int(rng.integers(len(source)))
    pair = source[base_index]
    if rng.random() < policy.flip_prob:
        pair = flip(pair)
    if len(source) > 1 and rng.random() < policy.recombine_prob:
        other = int(rng.choice([i for i in range(len(source)) if i != base_index]))
        width = pair.classes.shape[1]
        cut = int(rng.integers(width // 4, 3 * width // 4 + 1))
        partner = source[other]
        pair = recombine(pair, partner, cut, partner.provenance["base"])
    pasted = np.zeros(pair.classes.shape, bool)
    background = None if pair.image is None else pair.image.copy()
    for src, dst in policy.rules:
        donors = source.showing(src, policy.min_pixels)
        if rng.random() >= policy.blob_prob or not len(donors):
            continue
        donor = source[int(rng.choice(donors))]
        pair, mask = insert_blobs(
            pair,
            donor,
            src,
            dst,
            rng,
            policy.min_pixels,
            policy.max_blobs,
            donor.provenance["base"],
        )
        pasted |= mask
    return pair, pasted, background


class SPADERenderer:
    """Renders class maps with a trained generator at ``render_scale`` (``(w, h)``, kept
    aspect ratio, as the training resize) and resizes the image back to the map's size."""

    def __init__(self, generator, num_classes: int, ignore_index: int, render_scale, amp: bool):
        self.generator = generator.eval()
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.scale, self.amp = tuple(render_scale), amp
        self.device = next(generator.parameters()).device

    @torch.no_grad()
    def __call__(self, pair: Pair, z_seed: int) -> np.ndarray:
        h, w = pair.classes.shape
        size = rescale_size((h, w), self.scale)
        labels = torch.from_numpy(resize_nearest(pair.classes, size).astype(np.int64))[None]
        instances = None
        if self.generator.instance_edges:
            if pair.instance is None:
                raise ConfigError("the generator needs instance maps; the source has none")
            instances = torch.from_numpy(resize_nearest(pair.instance, size))[None]
        seg = encode_labels(labels, self.num_classes, self.ignore_index, instances).to(self.device)
        z = None
        if self.generator.z_dim:
            z = torch.randn(
                1, self.generator.z_dim, generator=torch.Generator().manual_seed(z_seed)
            )
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            image = self.generator(seg, None if z is None else z.to(self.device)).float()
        return cv2.resize(to_uint8_rgb(image)[0], (w, h), interpolation=cv2.INTER_LINEAR)


def synthesize(
    dataset,
    out_root: str,
    num: int,
    policy: EditPolicy,
    mode: str,
    seed: int = 0,
    renderer: SPADERenderer | None = None,
    harmonizer: Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray] | None = None,
    header: dict | None = None,
    progress: Callable = iter,
) -> str:
    """Write ``num`` new pairs under ``out_root`` in the layout of ``dataset`` and a
    ``manifest.json`` of their provenance; returns the manifest's path.

    ``mode='spade'`` renders every edited label map with ``renderer``; ``'copyblob'`` keeps
    the base image with the donors' pixels pasted, then ``harmonizer(background, composite,
    mask, seed)`` (e.g. :func:`singan_harmonizer`'s, which fits a SinGAN on the background)
    blends them in where given. Everything is drawn from ``seed``.
    """
    if mode not in ("spade", "copyblob"):
        raise ConfigError(f"synthesis mode must be 'spade' or 'copyblob', got {mode!r}")
    if (mode == "spade") != (renderer is not None) or (harmonizer and mode != "copyblob"):
        raise ConfigError("mode 'spade' needs a renderer; only 'copyblob' takes a harmonizer")
    if num < 1:
        raise ConfigError(f"the number of pairs must be >= 1, got {num}")
    writer = LayoutWriter(dataset, out_root)
    source = PairSource(dataset, with_image=mode == "copyblob")
    rng = np.random.default_rng(seed)
    records = []
    for k in progress(range(num)):
        pair, pasted, background = edit(source, policy, rng)
        seed_k = int(rng.integers(2**31 - 1))
        if mode == "spade":
            pair.image = renderer(pair, seed_k)
            pair.provenance["z_seed"] = seed_k
        elif harmonizer is not None and pasted.any():
            pair.image = harmonizer(background, pair.image, pasted, seed_k)
            pair.provenance["harmonize_seed"] = seed_k
        records.append(dict(writer.write(k, pair), **pair.provenance))
    manifest = dict(header or {}, mode=mode, num=num, seed=seed, pairs=records)
    path = osp.join(out_root, "manifest.json")
    atomic_write(path, json.dumps(manifest, indent=1).encode())
    return path
