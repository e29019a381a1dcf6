"""Plot a split's row-normalized confusion matrix, from a saved matrix or a checkpoint:

    python tools/analysis_tools/confusion_matrix.py --results FILE.npz --out cm.png
    python tools/analysis_tools/confusion_matrix.py CONFIG CHECKPOINT --out cm.png [options]

``--results`` takes the ``.npz`` that ``IoUMetric`` / ``CityscapesMetric`` write with
``confusion_file``. With CONFIG CHECKPOINT the checkpoint runs on the config's test data loader
through mmengine's Runner (as tools/test.py, without TTA or CRF) with ``confusion_file`` set
on the test evaluator to the PNG's name with ``.npz``, so the raw counts stay next to the plot.
Each row is divided by its ground-truth pixels: the diagonal is the class's recall, the rest of
the row says what the class is mistaken for. Classes absent from the ground truth are grey.
"""

import argparse
import os
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.utils import (  # noqa: E402
    ConfigError,
    DataError,
    DictAction,
    MissingDataError,
    exit_on_input_error,
    make_out_dir,
)

METRICS_WITH_CONFUSION = ("IoUMetric", "CityscapesMetric")
MAX_VALUE_CLASSES = 20  # more than this, the numbers no longer fit in the cells


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Plot a row-normalized confusion matrix")
    parser.add_argument("config", nargs="?", help="config file (with CHECKPOINT)")
    parser.add_argument("checkpoint", nargs="?", help="checkpoint file (with CONFIG)")
    parser.add_argument("--results", help="an .npz written by a metric's confusion_file")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--title", help="figure title (default: the source and its mIoU)")
    parser.add_argument("--no-values", action="store_true", help="no percentages in the cells")
    parser.add_argument("--work-dir", help="the Runner's log folder (default: work_dirs/NAME)")
    parser.add_argument("--data-root", help="override the data root of every dataset")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def load_confusion(path: str) -> tuple[np.ndarray, list[str]]:
    """(K x K counts, K class names) from a ``confusion_file`` .npz."""
    if not osp.isfile(path):
        raise MissingDataError(f"--results {path} does not exist")
    try:
        with np.load(path) as data:
            matrix, classes = data["confusion"], [str(c) for c in data["classes"]]
    except (OSError, ValueError, KeyError) as error:
        raise DataError(
            f"--results {path} is not a confusion_file .npz with 'confusion' and 'classes' "
            f"({error})"
        ) from None
    if matrix.ndim != 2 or matrix.shape != (len(classes), len(classes)):
        raise DataError(f"--results {path}: {matrix.shape} matrix for {len(classes)} classes")
    return matrix, classes


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row over its sum (float); rows with no ground-truth pixels are NaN, not 0/0."""
    totals = matrix.sum(axis=1, keepdims=True).astype(np.float64)
    out = np.full(matrix.shape, np.nan)
    np.divide(matrix, totals, out=out, where=totals > 0)
    return out


def default_title(matrix: np.ndarray, source: str) -> str:
    from vipseg.evaluation import metrics_from_confusion

    stats = metrics_from_confusion(matrix)
    miou, acc = np.nanmean(stats["IoU"]), stats["aAcc"]
    return f"{osp.basename(source)}: mIoU {miou:.3f}, pixel accuracy {acc:.3f}"


def _cell_text(ax, norm: np.ndarray, matrix: np.ndarray) -> None:
    # Cells without a pixel stay empty so the mistakes that do happen stand out.
    size = 7 if len(matrix) > 10 else 9
    for i, j in zip(*np.nonzero(matrix), strict=True):
        value = 100 * norm[i, j]
        text = f"{value:.0f}" if value >= 9.95 else f"{value:.1f}"
        color = "white" if value > 55 else "black"  # readable on dark and light blue
        ax.text(j, i, text, ha="center", va="center", fontsize=size, color=color)


def plot_confusion(matrix, classes, out: str, title: str, values: bool = True) -> None:
    """Write the row-normalized matrix as a PNG: rows ground truth, columns prediction."""
    import matplotlib

    matplotlib.use("Agg")  # files only, also on machines without a display
    import matplotlib.pyplot as plt

    norm = normalize_rows(matrix)
    k = len(classes)
    side = max(5.0, 0.42 * k + 2.5)
    fig, ax = plt.subplots(figsize=(side + 1.2, side), layout="constrained")
    cmap = plt.get_cmap("Blues").with_extremes(bad="lightgrey")  # NaN rows: no ground truth
    image = ax.imshow(np.ma.masked_invalid(100 * norm), cmap=cmap, vmin=0, vmax=100)
    ax.set_xticks(range(k), classes, rotation=60, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("prediction")
    ylabel = "ground truth"
    if np.isnan(norm).any():
        ylabel += " (grey: no pixels of the class)"
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8, label="% of the ground-truth class's pixels")
    if values and k <= MAX_VALUE_CLASSES:
        _cell_text(ax, norm, matrix)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def set_confusion_file(cfg, path: str) -> None:
    """Set ``confusion_file`` on the first test metric that can write one."""
    evaluator = cfg.get("test_evaluator")
    if isinstance(evaluator, dict) and "metrics" in evaluator:  # dict(type='Evaluator', ...)
        evaluator = evaluator["metrics"]
    metrics = evaluator if isinstance(evaluator, list | tuple) else [evaluator]
    for metric in metrics:
        # A scoped name such as 'vipseg.IoUMetric' is the same class.
        name = str(metric.get("type")).split(".")[-1] if isinstance(metric, dict) else None
        if name in METRICS_WITH_CONFUSION:
            metric["confusion_file"] = path
            return
    types = [m.get("type") if isinstance(m, dict) else m for m in metrics]
    raise ConfigError(
        f"config {cfg.filename}: test_evaluator {types} has no "
        f"{' or '.join(METRICS_WITH_CONFUSION)} to take a confusion matrix from"
    )


def run_checkpoint(args: argparse.Namespace, npz: str) -> None:
    """Evaluate the checkpoint on the test split; its metric writes ``npz``."""
    from mmengine.runner import Runner

    from vipseg.utils import check_config_types, load_config, set_data_root

    if not osp.isfile(args.checkpoint):
        raise MissingDataError(f"checkpoint {args.checkpoint} does not exist")
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = "none"
    stem = osp.splitext(osp.basename(args.config))[0]
    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join("work_dirs", stem)
    cfg.load_from = args.checkpoint
    if args.data_root:
        set_data_root(cfg, args.data_root)
    set_confusion_file(cfg, osp.abspath(npz))
    check_config_types(cfg)
    if osp.exists(npz):
        os.remove(npz)  # a stale matrix from an earlier run must not pass for this one's
    Runner.from_cfg(cfg).test()
    if not osp.isfile(npz):
        raise DataError(f"the test run of {args.checkpoint} wrote no confusion matrix to {npz}")


def run(args: argparse.Namespace) -> None:
    from_checkpoint = args.config is not None or args.checkpoint is not None
    if from_checkpoint == (args.results is not None) or (from_checkpoint and not args.checkpoint):
        raise ConfigError("give either --results FILE.npz or CONFIG CHECKPOINT")
    if osp.dirname(args.out):
        make_out_dir(osp.dirname(args.out), "--out")
    source = args.results
    if from_checkpoint:
        source = osp.splitext(args.out)[0] + ".npz"
        run_checkpoint(args, source)
    matrix, classes = load_confusion(source)
    title = args.title or default_title(matrix, args.checkpoint or source)
    plot_confusion(matrix, classes, args.out, title, values=not args.no_values)
    print(f"wrote {args.out}" + (f" and {source}" if from_checkpoint else ""))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with exit_on_input_error():  # bad path, file or config: one line, exit 2
        if args.config is not None:
            from vipseg.utils import keep_freed_memory, register_all_modules

            keep_freed_memory()  # faster CPU steps, as in tools/test.py
            register_all_modules()
        run(args)


if __name__ == "__main__":
    main()
