"""Class weights from pixel counts: hand-derived values of both methods, absent classes,
damping and normalisation, and the config fragment the tool writes."""

import numpy as np
import pytest
from mmengine.config import Config

from vipseg.datasets.class_weights import (
    absent_classes,
    class_weights,
    enet_weights,
    median_freq_weights,
    pixel_shares,
    weights_file_text,
)
from vipseg.utils.errors import ConfigError, DataError

# 3 images of 8 labelled pixels each, 3 classes.
# class 0: 18 px in all 3 images (24 px)  -> freq 18/24 = 0.75, share 18/24
# class 1:  2 px in image 0 only (8 px)   -> freq  2/8  = 0.25, share  2/24
# class 2:  4 px in image 1 only (8 px)   -> freq  4/8  = 0.5,  share  4/24
COUNTS = np.array([[6, 2, 0], [4, 0, 4], [8, 0, 0]])
SHARES = [18 / 24, 2 / 24, 4 / 24]
MEDIAN_FREQ = [0.5 / 0.75, 0.5 / 0.25, 0.5 / 0.5]  # median freq 0.5
# 1 / ln(1.02 + share), worked out with a calculator
ENET = [1.7513762, 10.1692260, 5.8428875]
# with an absent 4th class appended
COUNTS_ABSENT = np.hstack([COUNTS, np.zeros((3, 1), np.int64)])


def test_pixel_shares():
    np.testing.assert_allclose(pixel_shares(COUNTS), SHARES)


def test_median_freq_weights_hand_derived():
    np.testing.assert_allclose(median_freq_weights(COUNTS), MEDIAN_FREQ)


def test_median_freq_uses_pixels_of_images_where_class_present():
    # Not the share over the whole split: class 1 is 2/24 of all pixels but 2/8 where seen;
    # split-wide shares would give class 0 the weight (4/24) / (18/24) = 4/18, not 2/3.
    weights = median_freq_weights(COUNTS)
    assert weights[0] == pytest.approx(2 / 3)
    assert np.median(SHARES) / SHARES[0] == pytest.approx(4 / 18)


def test_enet_weights_hand_derived():
    np.testing.assert_allclose(enet_weights(COUNTS), ENET, rtol=1e-6)


def test_absent_class_excluded_from_median_and_gets_largest_weight():
    weights = median_freq_weights(COUNTS_ABSENT)
    np.testing.assert_allclose(weights[:3], MEDIAN_FREQ)  # median still 0.5
    assert weights[3] == pytest.approx(2.0)
    enet = enet_weights(COUNTS_ABSENT)
    np.testing.assert_allclose(enet, [*ENET, ENET[1]], rtol=1e-6)
    assert absent_classes(COUNTS_ABSENT, "abcd") == ["d"]
    assert absent_classes(COUNTS, "abc") == []


def test_normalize_makes_pixel_weighted_mean_one():
    weights = class_weights(COUNTS, "median_freq")
    # raw [2/3, 2, 1] have share-weighted mean 0.5 + 1/6 + 1/6 = 5/6
    np.testing.assert_allclose(weights, [0.8, 2.4, 1.2])
    assert np.dot(SHARES, weights) == pytest.approx(1.0)
    enet = class_weights(COUNTS, "enet")
    assert np.dot(SHARES, enet) == pytest.approx(1.0)
    np.testing.assert_allclose(enet / enet[0], np.array(ENET) / ENET[0], rtol=1e-6)


def test_absent_class_does_not_change_the_normalisation():
    with_absent = class_weights(COUNTS_ABSENT, "median_freq")
    np.testing.assert_allclose(with_absent, [0.8, 2.4, 1.2, 2.4])


def test_power_damps_before_normalising():
    raw = class_weights(COUNTS, "median_freq", power=0.5, normalize=False)
    np.testing.assert_allclose(raw, np.sqrt(MEDIAN_FREQ))
    normed = class_weights(COUNTS, "median_freq", power=0.5)
    np.testing.assert_allclose(normed, raw / np.dot(SHARES, raw))
    assert normed.max() / normed.min() == pytest.approx(np.sqrt(3.0))  # sqrt of 2 / (2/3)
    np.testing.assert_allclose(class_weights(COUNTS, "enet", normalize=False), ENET, rtol=1e-6)


def test_bad_input_raises_clear_errors():
    with pytest.raises(DataError, match="none of the 3 classes"):
        class_weights(np.zeros((2, 3), np.int64))
    with pytest.raises(DataError, match="none of the 3 classes"):
        class_weights(np.zeros((0, 3), np.int64))  # an empty split
    with pytest.raises(DataError, match="num_images, num_classes"):
        median_freq_weights(np.ones(3))
    with pytest.raises(ConfigError, match="method"):
        class_weights(COUNTS, "inverse")
    with pytest.raises(ConfigError, match="power"):
        class_weights(COUNTS, power=0)


def test_weights_file_is_a_config_fragment(tmp_path):
    names = [f"class {i}" for i in range(25)]  # long enough to wrap lines
    weights = np.linspace(0.1, 3.0, 25)
    text = weights_file_text(weights.tolist(), names, "made by a test\nsecond line")
    assert text.startswith("# made by a test\n# second line\n")
    assert max(len(line) for line in text.splitlines()) <= 100
    path = tmp_path / "weights.py"
    path.write_text(text)
    cfg = Config.fromfile(str(path))
    np.testing.assert_allclose(cfg.class_weight, weights, atol=5e-5)
    assert tuple(cfg.class_names) == tuple(names)
    with pytest.raises(ValueError, match="3 weights for 2 class names"):
        weights_file_text([1.0, 2.0, 3.0], ["a", "b"], "")
