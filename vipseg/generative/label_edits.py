"""Label-map edits that make new layouts from training labels: flips, recombination of two
scenes, and CopyBlob-style insertion of rare-class components (the offline CopyBlob).

Edits work on a :class:`Pair` and keep its arrays consistent: the stored label values
(``raw``, as the dataset's files hold them, e.g. Cityscapes label IDs), the class map
(``classes``, the dataset's class indices, which the rules and the generator use), the
instance map and, where there is one, the image. A pasted pixel takes all four from its donor.
"""

import copy
from dataclasses import dataclass, field

import numpy as np

from vipseg.models.batch_augments.copy_blob import paste_components

# Cityscapes' instance maps: ids >= 1000 are class_id * 1000 + instance number.
INSTANCE_BASE = 1000


@dataclass
class Pair:
    """One sample being edited; ``provenance`` records what made it (for the manifest)."""

    raw: np.ndarray  # (H, W) stored label values
    classes: np.ndarray  # (H, W) uint8 class indices or the ignore index
    instance: np.ndarray | None = None  # (H, W) int32
    image: np.ndarray | None = None  # (H, W, 3) uint8 RGB
    provenance: dict = field(default_factory=dict)

    def copy(self) -> "Pair":
        return copy.deepcopy(self)


def _arrays(pair: Pair) -> list[str]:
    return [k for k in ("raw", "classes", "instance", "image") if getattr(pair, k) is not None]


def flip(pair: Pair) -> Pair:
    """Mirror left-right (street scenes are roughly symmetric; traffic side is the cost)."""
    out = pair.copy()
    for key in _arrays(out):
        setattr(out, key, np.ascontiguousarray(getattr(out, key)[:, ::-1]))
    out.provenance["flip"] = True
    return out


def recombine(pair: Pair, partner: Pair, cut_x: int, partner_name: str = "") -> Pair:
    """Columns ``< cut_x`` from ``pair``, the rest from ``partner`` (same size).

    A vertical cut keeps each half's horizon and road geometry plausible, which a horizontal
    cut or a quadrant swap would not. The partner's instance ids are renumbered so no two
    objects share one.
    """
    _check_same_size(pair, partner)
    out = pair.copy()
    keys = [k for k in _arrays(out) if getattr(partner, k) is not None]
    if pair.instance is not None and partner.instance is not None:
        partner = partner.copy()
        part = partner.instance[:, cut_x:]
        partner.instance[:, cut_x:] = _remap(part, _fresh_ids(out.instance[:, :cut_x], part))
    for key in keys:
        getattr(out, key)[:, cut_x:] = getattr(partner, key)[:, cut_x:]
    out.provenance["recombine"] = dict(partner=partner_name, cut_x=int(cut_x))
    return out


def insert_blobs(
    pair: Pair,
    donor: Pair,
    src: int,
    dst: int,
    rng: np.random.Generator,
    min_pixels: int = 32,
    max_blobs: int | None = None,
    donor_name: str = "",
) -> tuple[Pair, np.ndarray]:
    """Paste ``donor``'s components of class ``src`` onto ``dst`` ground of ``pair`` with
    CopyBlob's placement (:func:`paste_components`); returns the new pair and the pasted mask.
    """
    _check_same_size(pair, donor)
    out = pair.copy()
    mask = np.zeros(pair.classes.shape, bool)
    placed = paste_components(
        rng, donor.classes == src, out.classes, src, dst, min_pixels, max_blobs
    )
    ids = None
    if out.instance is not None and donor.instance is not None and placed:
        ids = _fresh_ids(out.instance, donor.instance[donor.classes == src])
    for sy, sx, ty, tx in placed:
        out.raw[ty, tx] = donor.raw[sy, sx]
        if ids is not None:
            out.instance[ty, tx] = _remap(donor.instance[sy, sx], ids)
        if out.image is not None and donor.image is not None:
            out.image[ty, tx] = donor.image[sy, sx]
        mask[ty, tx] = True
    if placed:
        out.provenance.setdefault("blobs", []).append(
            dict(
                src=int(src),
                dst=int(dst),
                donor=donor_name,
                components=len(placed),
                pixels=int(mask.sum()),
            )
        )
    return out, mask


def _check_same_size(a: Pair, b: Pair) -> None:
    if a.classes.shape != b.classes.shape:
        raise ValueError(
            f"label edits need equal sizes, got {a.classes.shape} and {b.classes.shape}"
        )


def _fresh_ids(target: np.ndarray, incoming: np.ndarray) -> dict[int, int]:
    """A map from the object ids in ``incoming`` to ids unused in ``target`` (same class
    prefix); stuff ids (< INSTANCE_BASE) map to themselves."""
    taken = set(np.unique(target).tolist())
    mapping = {}
    for value in np.unique(incoming).tolist():
        if value < INSTANCE_BASE:
            mapping[value] = value
            continue
        prefix, number = divmod(value, INSTANCE_BASE)
        while prefix * INSTANCE_BASE + number in taken:
            number += 1
        if number >= INSTANCE_BASE:
            raise ValueError(f"class {prefix} has more than {INSTANCE_BASE} instances")
        mapping[value] = prefix * INSTANCE_BASE + number
        taken.add(mapping[value])
    return mapping


def _remap(values: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    keys = np.array(sorted(mapping), dtype=np.int64)
    new = np.array([mapping[k] for k in keys.tolist()], dtype=np.int64)
    return new[np.searchsorted(keys, values)].astype(values.dtype)
