"""Statistics of a labelled split for exploratory analysis: class pixels and images, imbalance,
image sizes and the ignored share. ``tools/analysis_tools/dataset_stats.py`` prints and plots
them.

Image sizes come from the file headers (PNG ``IHDR``, JPEG start-of-frame), a few hundred
bytes per file instead of a full decode; other formats, or a header that does not parse, fall
back to decoding the file with cv2.
"""

import struct
from collections import Counter
from collections.abc import Sequence

import cv2
import numpy as np
from prettytable import PrettyTable

from .label_stats import class_pixel_counts
from .transforms.loading import read_image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, ...); C4, C8 and CC are not frames.
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(f) -> tuple[int, int] | None:
    f.seek(2)
    while True:
        byte = f.read(1)
        while byte == b"\xff":  # fill bytes before a marker
            byte = f.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length field
            continue
        head = f.read(2)
        if len(head) < 2:
            return None
        if marker in JPEG_SOF:
            frame = f.read(5)  # precision, height, width
            return struct.unpack(">HH", frame[1:5]) if len(frame) == 5 else None
        f.seek(struct.unpack(">H", head)[0] - 2, 1)
        if f.read(1) != b"\xff":
            return None
        f.seek(-1, 1)


def image_size(path: str) -> tuple[int, int]:
    """``(height, width)`` of an image file, from its header where it is PNG or JPEG.

    Args:
        path: the image file.
    """
    size = None
    with open(path, "rb") as f:
        head = f.read(24)
        if head.startswith(PNG_SIGNATURE) and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            size = (height, width)
        elif head.startswith(b"\xff\xd8"):
            size = _jpeg_size(f)
    if size is None:
        size = read_image(path, cv2.IMREAD_UNCHANGED).shape[:2]
    return int(size[0]), int(size[1])


def _class_rows(counts: np.ndarray, names: Sequence[str]) -> list[dict]:
    pixels = counts.sum(axis=0)
    total = max(int(pixels.sum()), 1)
    most = int(pixels.max()) if len(pixels) else 0
    rows = []
    for name, n, images in zip(names, pixels.tolist(), (counts > 0).sum(axis=0).tolist()):
        rows.append(
            dict(
                name=str(name),
                pixels=int(n),
                pixel_share=n / total,
                images=int(images),
                # most frequent class's pixels over this one's; None (JSON null) when absent
                imbalance_ratio=most / n if n else None,
            )
        )
    return rows


def summarize(
    counts: np.ndarray,
    names: Sequence[str],
    image_sizes: Sequence[tuple[int, int]],
    label_sizes: Sequence[tuple[int, int]],
) -> dict:
    """All statistics of a split as a JSON-ready dict.

    Args:
        counts: ``(num_images, num_classes)`` non-ignored pixel counts per image and class.
        names: the class names, in class index order.
        image_sizes: ``(height, width)`` of each image, in the order of ``counts``.
        label_sizes: ``(height, width)`` of each label map; the pixels they hold beyond the
            counted ones are ``ignore_index`` pixels.
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows = _class_rows(counts, names)
    labelled = int(counts.sum())
    total = int(sum(h * w for h, w in label_sizes))
    present = [row for row in rows if row["pixels"]]
    most = max(present, key=lambda row: row["pixels"], default=None)
    least = min(present, key=lambda row: row["pixels"], default=None)
    sizes = Counter(tuple(size) for size in image_sizes)
    return dict(
        num_images=len(counts),
        num_classes=len(names),
        classes=rows,
        labelled_pixels=labelled,
        ignore_pixels=total - labelled,
        ignore_share=(total - labelled) / total if total else 0.0,
        most_frequent_class=most and most["name"],
        least_frequent_class=least and least["name"],
        imbalance_max_min=most and most["pixels"] / least["pixels"],
        absent_classes=[row["name"] for row in rows if not row["pixels"]],
        image_sizes=[
            dict(height=h, width=w, images=n) for (h, w), n in sorted(sizes.items(), key=_by_count)
        ],
        label_size_mismatches=sum(a != b for a, b in zip(image_sizes, label_sizes)),
    )


def _by_count(item: tuple[tuple[int, int], int]) -> tuple:
    (h, w), n = item
    return -n, h, w


def dataset_stats(dataset, workers: int = 0) -> dict:
    """:func:`summarize` of a ``BaseSegDataset`` (a labelled split).

    Args:
        dataset: the split, e.g. from ``build_split_dataset``.
        workers: processes decoding the label maps (0: this process).
    """
    counts = class_pixel_counts(dataset, workers)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    image_sizes = [image_size(info["img_path"]) for info in infos]
    label_sizes = [image_size(info["seg_map_path"]) for info in infos]
    return summarize(counts, dataset.metainfo["classes"], image_sizes, label_sizes)


def stats_table(stats: dict) -> str:
    """The per-class table and a summary of the split, for the terminal.

    Args:
        stats: the dict from :func:`summarize`.
    """
    table = PrettyTable(["class", "pixels", "share %", "images", "most / this"])
    table.align["class"] = "l"
    for row in stats["classes"]:
        ratio = row["imbalance_ratio"]
        table.add_row(
            [
                row["name"],
                row["pixels"],
                f"{100 * row['pixel_share']:.3f}",
                f"{row['images']}/{stats['num_images']}",
                "absent" if ratio is None else f"{ratio:.1f}",
            ]
        )
    sizes = ", ".join(f"{s['height']}x{s['width']} ({s['images']})" for s in stats["image_sizes"])
    lines = [
        table.get_string(),
        f"images: {stats['num_images']}; sizes (h x w): {sizes}",
        f"ignored pixels: {stats['ignore_pixels']} ({100 * stats['ignore_share']:.2f} %)",
    ]
    if stats["imbalance_max_min"] is not None:
        lines.append(
            f"imbalance: {stats['most_frequent_class']} / {stats['least_frequent_class']} = "
            f"{stats['imbalance_max_min']:.1f}x (present classes)"
        )
    if stats["absent_classes"]:
        lines.append(f"absent classes: {stats['absent_classes']}")
    if stats["label_size_mismatches"]:
        lines.append(
            f"label maps whose size differs from the image: {stats['label_size_mismatches']}"
        )
    return "\n".join(lines)
