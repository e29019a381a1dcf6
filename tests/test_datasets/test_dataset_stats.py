"""Split statistics: sizes read from file headers, the summary numbers and the charts."""

import json

import cv2
import numpy as np
import pytest

from vipseg.datasets.dataset_stats import image_size, stats_table, summarize
from vipseg.utils.errors import DataError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "name, params",
    [
        ("a.png", []),
        ("a.jpg", []),
        ("progressive.jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        ("a.bmp", []),  # no header parser: decoded with cv2
    ],
)
def test_image_size_matches_decoded_shape(tmp_path, name, params):
    img = np.random.default_rng(0).integers(0, 255, (37, 53, 3), dtype=np.uint8)
    path = str(tmp_path / name)
    assert cv2.imwrite(path, img, params)
    assert image_size(path) == (37, 53)


def test_image_size_of_16_bit_label_png(tmp_path):
    path = str(tmp_path / "label.png")
    cv2.imwrite(path, np.zeros((5, 300), np.uint16))
    assert image_size(path) == (5, 300)


def test_image_size_of_unreadable_file_names_it(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10garbage")
    with pytest.raises(DataError, match="broken.jpg"):
        image_size(str(path))


def test_summarize_numbers():
    counts = np.array([[6, 2, 0, 0], [4, 0, 4, 0], [8, 0, 0, 0]])
    sizes = [(2, 5), (2, 5), (3, 4)]  # 10 + 10 + 12 = 32 pixels, 24 labelled
    stats = summarize(counts, ["a", "b", "c", "d"], sizes, sizes)
    assert [row["pixels"] for row in stats["classes"]] == [18, 2, 4, 0]
    assert [row["images"] for row in stats["classes"]] == [3, 1, 1, 0]
    assert stats["classes"][1]["pixel_share"] == pytest.approx(2 / 24)
    assert [row["imbalance_ratio"] for row in stats["classes"]] == [1.0, 9.0, 4.5, None]
    assert stats["imbalance_max_min"] == 9.0
    assert (stats["most_frequent_class"], stats["least_frequent_class"]) == ("a", "b")
    assert stats["absent_classes"] == ["d"]
    assert (stats["labelled_pixels"], stats["ignore_pixels"]) == (24, 8)
    assert stats["ignore_share"] == pytest.approx(0.25)
    assert stats["image_sizes"] == [
        dict(height=2, width=5, images=2),
        dict(height=3, width=4, images=1),
    ]
    assert stats["label_size_mismatches"] == 0
    json.dumps(stats, allow_nan=False)  # absent classes give null, not NaN or inf
    text = stats_table(stats)
    assert "a / b = 9.0x" in text and "absent classes: ['d']" in text and "25.00 %" in text


def test_summarize_counts_label_size_mismatches():
    counts = np.ones((2, 1), np.int64)
    stats = summarize(counts, ["a"], [(2, 2), (2, 2)], [(2, 2), (1, 2)])
    assert stats["label_size_mismatches"] == 1
    assert "differs from the image: 1" in stats_table(stats)


def test_charts_are_pngs_and_sizes_chart_only_for_several_sizes(tmp_path):
    from vipseg.visualization.dataset_plots import plot_dataset_stats

    counts = np.array([[5, 0, 1], [3, 2, 0]])
    one = summarize(counts, ["a", "b", "c"], [(4, 2)] * 2, [(4, 2)] * 2)
    paths = plot_dataset_stats(one, str(tmp_path), [(255, 0, 0)], log_scale=True)
    assert [p.split("/")[-1] for p in paths] == ["class_pixels.png", "class_images.png"]
    two = summarize(counts, ["a", "b", "c"], [(4, 2), (2, 4)], [(4, 2), (2, 4)])
    (tmp_path / "two").mkdir()
    paths = plot_dataset_stats(two, str(tmp_path / "two"), None)
    assert paths[-1].endswith("image_sizes.png")
    for path in paths:
        with open(path, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE
