"""tools/analysis_tools/plot_logs.py and confusion_matrix.py: outputs read back, errors."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vipseg.datasets.cityscapes_labels import CLASSES, label_id_to_train_id_lut
from vipseg.utils import ConfigError, DataError, MissingDataError

REPO = Path(__file__).resolve().parents[2]
CONFIG = "configs/deeplabv3_r18_toycity.py"
NO_WORKERS = ["test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"]
# matplotlib's first two default colours (C0, C1) as BGR, the order cv2 reads.
BLUE, ORANGE = (180, 119, 31), (14, 127, 255)
LIGHTGREY = (211, 211, 211)


@pytest.fixture(scope="module")
def plot_logs(load_tool):
    return load_tool("tools/analysis_tools/plot_logs.py")


@pytest.fixture(scope="module")
def confusion_tool(load_tool):
    return load_tool("tools/analysis_tools/confusion_matrix.py")


def _png(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, f"{path} is not a readable image"
    return image


def _colour_pixels(image: np.ndarray, bgr: tuple, tolerance: int = 3) -> int:
    return int((np.abs(image.astype(int) - bgr).max(axis=2) <= tolerance).sum())


def _has_colour(image: np.ndarray, bgr: tuple, tolerance: int = 3, least: int = 300) -> bool:
    # More than anti-aliased text edges give: a line or an area of that colour.
    return _colour_pixels(image, bgr, tolerance) >= least


def _write_log(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_real_log_is_split_into_train_and_val_rows(plot_logs, tracked_run):
    train, val = plot_logs.load_scalars(str(tracked_run))
    assert [row["step"] for row in train] == [1, 2, 3, 4, 5]
    assert [row["step"] for row in val] == [2, 4, 5]  # val_interval 2 and the last iteration
    assert all("decode.loss_ce" in row and "lr" in row for row in train)
    assert all(0 <= row["mIoU"] <= 1 and "loss" not in row for row in val)


def test_two_runs_overlaid_from_a_real_log(plot_logs, tracked_run, tmp_path):
    # A second run: the real log with the loss raised, so the two curves differ.
    log = next(Path(tracked_run).glob("*/vis_data/scalars.json"))
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    for row in rows:
        if "loss" in row:
            row["loss"] *= 1.5
    _write_log(tmp_path / "other" / "20990101_000000" / "vis_data" / "scalars.json", rows)
    out = tmp_path / "plots" / "curves.png"  # the folder is created
    argv = [str(tracked_run), str(tmp_path / "other"), "--legend", "real", "raised"]
    plot_logs.main([*argv, "--keys", "loss", "mIoU", "lr", "--smooth", "2", "--out", str(out)])
    image = _png(out)
    assert image.shape[1] == 800 and image.shape[0] > 3 * 250  # three stacked subplots
    assert _has_colour(image, BLUE) and _has_colour(image, ORANGE)  # both runs are drawn
    one = tmp_path / "one.png"
    plot_logs.main([str(log), "--keys", "loss", "--out", str(one), "--title", "one run"])
    assert _png(one).shape[0] < image.shape[0] / 2
    assert not _has_colour(_png(one), ORANGE)


def test_missing_key_is_one_error_naming_key_files_and_keys(run_tool, tracked_run, tmp_path):
    cmd = ["tools/analysis_tools/plot_logs.py", str(tracked_run), "--keys", "loss", "mIoUU"]
    done = run_tool([*cmd, "--out", str(tmp_path / "x.png")], timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    log = next(Path(tracked_run).glob("*/vis_data/scalars.json"))
    error = done.stderr.strip()
    assert error.startswith(f"vipseg: error: --keys 'mIoUU' is in none of {log}."), error
    assert (
        "Available keys: " in error and " loss, lr, mIoU," in error and len(error.splitlines()) == 1
    )
    assert not (tmp_path / "x.png").exists()


def test_bad_paths_are_clear_errors(plot_logs, tmp_path):
    with pytest.raises(MissingDataError, match=f"{tmp_path / 'nope'} does not exist"):
        plot_logs.load_scalars(str(tmp_path / "nope"))
    (tmp_path / "empty" / "20250101_000000").mkdir(parents=True)
    with pytest.raises(MissingDataError, match="empty has no \\*/vis_data/scalars.json"):
        plot_logs.load_scalars(str(tmp_path / "empty"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"loss": 1, "step": 1}\nnot json\n')
    with pytest.raises(DataError, match="bad.json line 2 is not JSON"):
        plot_logs.load_scalars(str(bad))
    with pytest.raises(ConfigError, match="--legend has 1 names for 2 runs"):
        plot_logs.run(plot_logs.parse_args([str(bad), str(bad), "--legend", "a", "--out", "x"]))


def test_resumed_run_is_concatenated_in_timestamp_order(plot_logs, tmp_path):
    def train(step, loss):
        return dict(loss=loss, lr=0.1, iter=step, step=step)

    # Written later-first, so only sorting by the timestamp folder gets the order right.
    second = [train(5, 0.5), train(6, 0.4), dict(mIoU=0.6, step=6), train(7, 0.3)]
    _write_log(tmp_path / "run" / "20250102_000000" / "vis_data" / "scalars.json", second)
    # The first part crashed after iteration 6; the resume restarted from the iter-4 checkpoint,
    # so its own iterations 5 and 6 were done again and are replaced.
    first = [train(s, 1.0) for s in range(1, 7)] + [dict(mIoU=0.2, step=4)]
    _write_log(tmp_path / "run" / "20250101_000000" / "vis_data" / "scalars.json", first)
    (tmp_path / "run" / "20250103_000000" / "vis_data").mkdir(parents=True)  # a test run's
    train_rows, val_rows = plot_logs.load_scalars(str(tmp_path / "run"))
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["loss"] for r in train_rows] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.4, 0.3]
    assert [(r["step"], r["mIoU"]) for r in val_rows] == [(4, 0.2), (6, 0.6)]
    steps, values, is_train = plot_logs.series(train_rows, val_rows, "loss")
    smoothed = plot_logs.moving_average(steps, values, 3)
    np.testing.assert_allclose(smoothed[0], [3, 4, 5, 6, 7])
    np.testing.assert_allclose(smoothed[1], [1.0, 1.0, 2.5 / 3, 1.9 / 3, 1.2 / 3])
    assert is_train and plot_logs.run_name(str(tmp_path / "run")) == "run"


def test_normalize_rows_sums_to_one_and_leaves_empty_rows_nan(confusion_tool):
    matrix = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 4]])
    norm = confusion_tool.normalize_rows(matrix)
    np.testing.assert_allclose(norm[[0, 2]].sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(norm[0], [0.75, 0.25, 0.0])
    assert np.isnan(norm[1]).all() and not np.isnan(norm[[0, 2]]).any()


def test_plot_from_a_saved_matrix_with_19_classes(confusion_tool, tmp_path, capsys):
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 50, (19, 19)) + np.diag(rng.integers(500, 1000, 19))
    matrix[16] = 0  # no 'train' pixels in the ground truth: a grey row
    results = tmp_path / "cm.npz"
    np.savez(results, confusion=matrix, classes=np.array(CLASSES))
    out = tmp_path / "figs" / "cm.png"
    confusion_tool.main(["--results", str(results), "--out", str(out)])
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    image = _png(out)
    assert min(image.shape[:2]) > 800  # room for 19 labels per axis
    assert _has_colour(image, LIGHTGREY, 1, 5000)  # the empty row
    plain = tmp_path / "plain.png"
    confusion_tool.main(["--results", str(results), "--out", str(plain), "--no-values"])
    # Without the numbers, fewer pixels differ from the cell colours: the files differ.
    assert plain.read_bytes() != out.read_bytes()
    matrix[16] = 1  # no empty row, no grey
    np.savez(results, confusion=matrix, classes=np.array(CLASSES))
    confusion_tool.main(["--results", str(results), "--out", str(plain)])
    assert not _has_colour(_png(plain), LIGHTGREY, 1, 5000)


def test_bad_results_and_arguments_are_clear_errors(confusion_tool, tmp_path):
    def run(*argv):
        confusion_tool.run(confusion_tool.parse_args([*argv, "--out", str(tmp_path / "x.png")]))

    with pytest.raises(MissingDataError, match="--results .*none.npz does not exist"):
        run("--results", str(tmp_path / "none.npz"))
    np.savez(tmp_path / "other.npz", matrix=np.eye(2))
    with pytest.raises(DataError, match="not a confusion_file .npz with 'confusion'"):
        run("--results", str(tmp_path / "other.npz"))
    np.savez(tmp_path / "shape.npz", confusion=np.eye(2), classes=np.array(["a", "b", "c"]))
    with pytest.raises(DataError, match=r"\(2, 2\) matrix for 3 classes"):
        run("--results", str(tmp_path / "shape.npz"))
    with pytest.raises(ConfigError, match="either --results FILE.npz or CONFIG CHECKPOINT"):
        run()
    with pytest.raises(ConfigError, match="either --results"):
        run(CONFIG)
    with pytest.raises(MissingDataError, match="checkpoint nope.pth does not exist"):
        run(CONFIG, "nope.pth")


def test_confusion_file_goes_on_the_first_metric_that_writes_one(confusion_tool):
    from mmengine.config import Config

    cfg = Config(dict(test_evaluator=[dict(type="Other"), dict(type="vipseg.IoUMetric")]))
    confusion_tool.set_confusion_file(cfg, "/x/cm.npz")
    assert cfg.test_evaluator[1].confusion_file == "/x/cm.npz"
    assert "confusion_file" not in cfg.test_evaluator[0]
    cfg = Config(dict(test_evaluator=dict(type="Evaluator", metrics=dict(type="Other"))))
    with pytest.raises(ConfigError, match="has no IoUMetric or CityscapesMetric"):
        confusion_tool.set_confusion_file(cfg, "/x/cm.npz")


def test_confusion_matrix_from_a_checkpoint(run_tool, init_checkpoint, toycity_root, tmp_path):
    out = tmp_path / "cm" / "toy.png"
    cmd = ["tools/analysis_tools/confusion_matrix.py", CONFIG, init_checkpoint]
    cmd += ["--data-root", str(toycity_root), "--work-dir", str(tmp_path / "work")]
    done = run_tool([*cmd, "--out", str(out), "--cfg-options", *NO_WORKERS], timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    npz = out.with_suffix(".npz")
    assert f"wrote {out} and {npz}" in done.stdout
    _png(out)
    with np.load(npz) as data:
        confusion, classes = data["confusion"], data["classes"].tolist()
    assert confusion.shape == (19, 19) and classes == list(CLASSES)
    # Every labelled, non-ignored pixel of the val split is in its ground-truth row.
    lut = label_id_to_train_id_lut()
    files = sorted((toycity_root / "gtFine" / "val").glob("*/*_gtFine_labelIds.png"))
    labels = np.concatenate([lut[cv2.imread(str(f), cv2.IMREAD_UNCHANGED)].ravel() for f in files])
    labels = labels[labels != 255].astype(np.int64)
    assert len(files) == 2 and confusion.sum() == labels.size > 0
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(labels, minlength=19))
