"""Plot training curves: python tools/analysis_tools/plot_logs.py RUN [RUN ...] --out PNG.

RUN is a work dir of tools/train.py (every ``*/vis_data/scalars.json`` under it, oldest
timestamp folder first, so a resumed run reads as one) or one ``scalars.json``. mmengine
writes a JSON object per line: training lines have ``loss`` (and ``decode.loss_ce``, ``lr``,
``grad_norm``, ``time``, ...), validation lines have ``mIoU`` (and the other metrics); both
carry ``step``, the iteration, which is the x axis. One subplot per ``--keys`` entry (default
``loss mIoU``), every run overlaid on each.
"""

import argparse
import glob
import json
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.utils import (  # noqa: E402
    ConfigError,
    DataError,
    MissingDataError,
    exit_on_input_error,
    make_out_dir,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Plot scalars of mmengine training logs")
    parser.add_argument("runs", nargs="+", metavar="RUN", help="work dir or scalars.json")
    parser.add_argument("--keys", nargs="+", default=["loss", "mIoU"], help="%(default)s")
    parser.add_argument("--legend", nargs="+", help="one name per run (default: folder names)")
    parser.add_argument("--title", help="figure title")
    parser.add_argument("--smooth", type=int, default=1, help="moving average of N train points")
    parser.add_argument("--out", required=True, help="the PNG to write")
    return parser.parse_args(argv)


def find_logs(path: str) -> list[str]:
    """``path`` itself if a file, else its run folders' scalars.json, oldest first."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise MissingDataError(f"{path} does not exist")
    # Timestamp folders (YYYYMMDD_HHMMSS) sort by time as strings; the second pattern takes
    # one timestamp folder itself.
    logs = sorted(glob.glob(osp.join(path, "*", "vis_data", "scalars.json")))
    logs += glob.glob(osp.join(path, "vis_data", "scalars.json"))
    if not logs:
        raise MissingDataError(f"{path} has no */vis_data/scalars.json: not a training work dir")
    return logs


def read_rows(path: str) -> list[dict]:
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))  # accepts the NaN mmengine writes for absent IoU
            except json.JSONDecodeError as error:
                raise DataError(f"{path} line {number} is not JSON: {error.msg}") from None
            if not isinstance(rows[-1], dict) or "step" not in rows[-1]:
                raise DataError(f"{path} line {number} has no 'step': not an mmengine scalar log")
    return rows


def _append(before: list[dict], after: list[dict]) -> list[dict]:
    # A resumed run restarts at its checkpoint, so iterations the earlier log reached past
    # that point were done again: the later log's rows replace them.
    if after:
        before = [row for row in before if row["step"] < after[0]["step"]]
    return before + after


def load_scalars(path: str) -> tuple[list[dict], list[dict]]:
    """(train rows, val rows) of a work dir or scalars.json, resumed parts concatenated."""
    train, val = [], []
    for log in find_logs(path):
        rows = read_rows(log)
        train = _append(train, [row for row in rows if "loss" in row])
        val = _append(val, [row for row in rows if "mIoU" in row])
    return train, val


def run_name(path: str) -> str:
    """The work dir's name, also for a ``<work dir>/<timestamp>/vis_data/scalars.json``."""
    path = osp.abspath(path)
    if osp.isfile(path) and osp.basename(osp.dirname(path)) == "vis_data":
        return osp.basename(osp.dirname(osp.dirname(osp.dirname(path))))
    return osp.basename(path)


def series(train: list[dict], val: list[dict], key: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(steps, values, from train lines) of ``key``; empty arrays if no line has it."""
    # time and data_time are in both kinds of line; the training step's are the ones wanted.
    for rows, is_train in ((train, True), (val, False)):
        points = [(row["step"], row[key]) for row in rows if key in row]
        if points:
            steps, values = zip(*points, strict=True)
            return np.asarray(steps, float), np.asarray(values, float), is_train
    return np.empty(0), np.empty(0), True


def moving_average(steps: np.ndarray, values: np.ndarray, n: int):
    n = min(n, len(values))
    if n <= 1:
        return steps, values
    # Each mean is plotted at the last step of its window, so a curve never leads its data.
    return steps[n - 1 :], np.convolve(values, np.ones(n) / n, mode="valid")


def check_keys(runs: list[tuple], keys: list[str], paths: list[str]) -> None:
    """One error for a key that no run has, naming the files and the keys they do have."""
    available = {k for _, train, val in runs for row in train + val for k in row}
    for key in keys:
        if key not in available:
            files = ", ".join(log for path in paths for log in find_logs(path))
            names = ", ".join(sorted(available - {"step", "iter"}))
            raise ConfigError(f"--keys {key!r} is in none of {files}. Available keys: {names}")


def plot(runs: list[tuple], keys: list[str], out: str, title=None, smooth: int = 1) -> None:
    """Write a PNG with one subplot per key; ``runs`` holds (name, train rows, val rows)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, also on machines without a display
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(
        len(keys), 1, figsize=(8, 2.8 * len(keys) + 0.6), sharex=True, squeeze=False
    )
    for ax, key in zip(axes[:, 0], keys, strict=True):
        smoothed = False
        for i, (name, train, val) in enumerate(runs):
            steps, values, is_train = series(train, val, key)
            if not len(steps):  # this run lacks the key; check_keys made sure another has it
                continue
            # The learning rate follows a schedule, not noise: averaging would only shift it.
            if is_train and smooth > 1 and not key.startswith("lr"):
                ax.plot(steps, values, color=f"C{i}", alpha=0.25, linewidth=1)  # raw, faint
                steps, values = moving_average(steps, values, smooth)
                smoothed = True
            # Validation has few points: markers show where they are.
            ax.plot(steps, values, color=f"C{i}", label=name, marker=None if is_train else "o")
        ax.set_ylabel(f"{key}\n(mean of {smooth})" if smoothed else key)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    axes[-1, 0].set_xlabel("iteration")
    axes[-1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def run(args: argparse.Namespace) -> None:
    if args.smooth < 1:
        raise ConfigError(f"--smooth must be >= 1, got {args.smooth}")
    names = args.legend or [run_name(path) for path in args.runs]
    if len(names) != len(args.runs):
        raise ConfigError(f"--legend has {len(names)} names for {len(args.runs)} runs")
    runs = [(name, *load_scalars(path)) for name, path in zip(names, args.runs, strict=True)]
    check_keys(runs, args.keys, args.runs)
    if osp.dirname(args.out):
        make_out_dir(osp.dirname(args.out), "--out")
    plot(runs, args.keys, args.out, args.title, args.smooth)
    print(f"wrote {args.out}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with exit_on_input_error():  # bad path or key: one line, exit 2
        run(args)


if __name__ == "__main__":
    main()
