"""Label-map edits: flips, recombination, and the offline CopyBlob (rare-class insertion)."""

import numpy as np
import pytest

from vipseg.generative.label_edits import Pair, flip, insert_blobs, recombine
from vipseg.models.batch_augments import CopyBlob


def _pair(classes, instance=None, image=True, name="a"):
    classes = np.asarray(classes, np.uint8)
    raw = (classes.astype(np.int32) + 10).astype(np.uint8)  # stored values differ from classes
    rgb = None
    if image:
        rgb = np.stack(
            [classes * 20, classes * 20 + 1, np.arange(classes.size).reshape(classes.shape) % 251],
            -1,
        ).astype(np.uint8)
    inst = None if instance is None else np.asarray(instance, np.int32)
    return Pair(raw=raw, classes=classes, instance=inst, image=rgb, provenance=dict(base=name))


def _consistent(pair):
    assert np.array_equal(pair.raw, pair.classes + 10)
    if pair.image is not None:
        assert np.array_equal(pair.image[..., 0], pair.classes * 20)


def test_flip_mirrors_every_array_consistently():
    p = _pair(np.arange(12).reshape(3, 4) % 3, instance=np.arange(12).reshape(3, 4))
    out = flip(p)
    assert np.array_equal(out.classes, p.classes[:, ::-1])
    assert np.array_equal(out.instance, p.instance[:, ::-1])
    assert np.array_equal(out.image, p.image[:, ::-1])
    assert out.provenance == dict(base="a", flip=True) and "flip" not in p.provenance
    _consistent(out)


def test_recombine_takes_columns_from_each_and_renumbers_objects():
    a = _pair(np.zeros((4, 6)), instance=np.full((4, 6), 26001))
    b = _pair(np.ones((4, 6)), instance=np.full((4, 6), 26001), name="b")
    b.instance[:, 5] = 26002
    out = recombine(a, b, cut_x=2, partner_name="b")
    assert np.array_equal(out.classes[:, :2], a.classes[:, :2])
    assert np.array_equal(out.classes[:, 2:], b.classes[:, 2:])
    _consistent(out)
    # b's car 26001 would merge with a's: it becomes 26002, and b's 26002 then 26003
    assert set(np.unique(out.instance[:, :2])) == {26001}
    assert set(np.unique(out.instance[:, 2:5])) == {26002}
    assert set(np.unique(out.instance[:, 5])) == {26003}
    assert out.provenance["recombine"] == dict(partner="b", cut_x=2)


def test_stuff_ids_keep_their_value():
    a = _pair(np.zeros((2, 4)), instance=np.full((2, 4), 7))
    b = _pair(np.zeros((2, 4)), instance=np.full((2, 4), 7))
    assert np.array_equal(recombine(a, b, 1).instance, np.full((2, 4), 7))


def test_insert_blobs_pastes_donor_pixels_onto_destination_only():
    rng = np.random.default_rng(0)
    target = np.zeros((20, 20), np.uint8)  # class 0 everywhere ...
    target[:, 10:] = 2  # ... but the right half is class 2, not the destination
    donor = np.full((20, 20), 2, np.uint8)
    donor[3:7, 4:9] = 1  # one 4x5 component of the source class
    t = _pair(target, instance=np.zeros((20, 20)))
    d = _pair(donor, instance=np.where(donor == 1, 24005, 0), name="donor")
    out, mask = insert_blobs(t, d, src=1, dst=0, rng=rng, min_pixels=4, donor_name="donor")
    assert mask.sum() > 0 and np.array_equal(mask, out.classes != t.classes)
    assert (t.classes[mask] == 0).all() and (out.classes[mask] == 1).all()
    assert np.array_equal(out.classes[~mask], t.classes[~mask])
    _consistent(out)
    assert np.array_equal(out.image[~mask], t.image[~mask])
    assert (out.instance[mask] == 24005).all()  # no clash in the target: kept
    # the image pixels are the donor's own: its blue channel encodes the donor position
    assert set(out.image[mask][:, 2].tolist()) <= set(d.image[donor == 1][:, 2].tolist())
    (record,) = out.provenance["blobs"]
    assert record == dict(src=1, dst=0, donor="donor", components=1, pixels=int(mask.sum()))


def test_small_components_and_missing_ground_paste_nothing():
    t = _pair(np.full((8, 8), 2))
    d = _pair(np.zeros((8, 8)))
    d.classes[0, 0] = 1
    out, mask = insert_blobs(t, d, 1, 0, np.random.default_rng(0), min_pixels=1)
    assert not mask.any() and "blobs" not in out.provenance  # no class-0 ground in the target
    t = _pair(np.zeros((8, 8)))
    out, mask = insert_blobs(t, d, 1, 0, np.random.default_rng(0), min_pixels=2)
    assert not mask.any()


def test_offline_placement_is_the_batch_copyblobs():
    """The same rng stream places components where the batch CopyBlob does."""
    rng = np.random.default_rng(3)
    target = (rng.random((24, 32)) < 0.7).astype(np.uint8) * 4  # pavement (4) or sky (0)
    donor = np.zeros((24, 32), np.uint8)
    donor[2:6, 3:8] = 9
    donor[10:20, 20:23] = 9
    out, mask = insert_blobs(_pair(target), _pair(donor), 9, 4, np.random.default_rng(7), 4)
    aug = CopyBlob(rules=[(9, 4)], min_pixels=4)
    index = np.full((1, 24, 32), -1, np.int64)
    aug._paste(np.random.default_rng(7), donor == 9, 0, target.copy(), index[0], 9, 4)
    assert np.array_equal(mask, index[0] >= 0)


def test_sizes_must_match():
    with pytest.raises(ValueError, match="equal sizes"):
        recombine(_pair(np.zeros((2, 2))), _pair(np.zeros((3, 2))), 1)
