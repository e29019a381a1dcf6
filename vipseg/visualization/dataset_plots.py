"""Bar charts of a split's statistics (from ``vipseg.datasets.dataset_stats.summarize``).

matplotlib is imported inside :func:`plot_dataset_stats`, with the Agg backend: the rest of
vipseg does not need it, and the charts are written to files on machines without a display.
"""

import os.path as osp
from collections.abc import Sequence

DEFAULT_COLOR = (0.4, 0.4, 0.4)


def _colors(names: Sequence[str], palette: Sequence | None) -> list[tuple]:
    """The dataset palette (RGB 0-255) as matplotlib colours; grey where it has no entry."""
    palette = list(palette or [])
    return [
        tuple(c / 255 for c in palette[i]) if i < len(palette) else DEFAULT_COLOR
        for i in range(len(names))
    ]


def _bar_chart(plt, path: str, labels, values, colors, ylabel: str, title: str, log: bool):
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(labels) + 2), 4.5), layout="constrained")
    # A black edge keeps white or very light palette entries visible on the white background.
    ax.bar(range(len(values)), values, color=colors, edgecolor="black", linewidth=0.5)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")  # zero bars (absent classes) are simply not drawn
    elif all(float(v).is_integer() for v in values):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # image counts
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_dataset_stats(
    stats: dict,
    out_dir: str,
    palette: Sequence | None = None,
    log_scale: bool = False,
    title: str = "",
) -> list[str]:
    """Write ``class_pixels.png``, ``class_images.png`` and, for several image sizes,
    ``image_sizes.png`` to ``out_dir``; return their paths.

    Classes are sorted by pixel share, most frequent first, in both class charts (the same
    order, so the two can be read side by side); each bar has its class's palette colour.

    Args:
        stats: the dict from ``summarize``.
        out_dir: an existing folder.
        palette: the dataset's ``metainfo['palette']`` (RGB per class).
        log_scale: logarithmic y axis in the class pixel chart, for long-tailed datasets.
        title: prefix of the chart titles, e.g. the config and split.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = stats["classes"]
    colors = _colors([row["name"] for row in rows], palette)
    order = sorted(range(len(rows)), key=lambda i: -rows[i]["pixels"])
    names = [rows[i]["name"] for i in order]
    colors = [colors[i] for i in order]
    paths = [osp.join(out_dir, "class_pixels.png"), osp.join(out_dir, "class_images.png")]
    shares = [100 * rows[i]["pixel_share"] for i in order]
    _bar_chart(
        plt, paths[0], names, shares, colors, "share of labelled pixels (%)",
        f"{title}pixels per class", log_scale,
    )  # fmt: skip
    images = [rows[i]["images"] for i in order]
    _bar_chart(
        plt, paths[1], names, images, colors, f"images (of {stats['num_images']})",
        f"{title}images containing each class", False,
    )  # fmt: skip
    sizes = stats["image_sizes"]
    if len(sizes) > 1:
        paths.append(osp.join(out_dir, "image_sizes.png"))
        labels = [f"{s['height']}x{s['width']}" for s in sizes]
        counts = [s["images"] for s in sizes]
        _bar_chart(
            plt, paths[2], labels, counts, DEFAULT_COLOR, "images", f"{title}image sizes (h x w)",
            False,
        )  # fmt: skip
    return paths
