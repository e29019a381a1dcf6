"""Experiment tracking: a real training run read back from TensorBoard and offline W&B."""

import json
import math
import struct
from pathlib import Path

import cv2
import pytest

TRAIN_KEYS = {"loss", "decode.loss_ce", "aux.loss_ce", "lr", "grad_norm", "time", "data_time"}
VAL_KEYS = {"mIoU", "aAcc", "IoU.road", "IoU.sky"}
VAL_STEPS = [2, 4, 5]


def _vis_data(work_dir: Path) -> Path:
    (folder,) = work_dir.glob("*/vis_data")
    return folder


def read_wandb_records(path: Path) -> list:
    """The protobuf records of an offline ``run-*.wandb`` file.

    The file is a LevelDB-format log (7-byte ``:W&B`` header, 32 KiB blocks of chunks with a
    7-byte header: CRC, length, type FULL=1 / FIRST=2 / MIDDLE=3 / LAST=4) of ``Record``s.
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B transaction log"
    pos, block, chunks, records = 7, 32768, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0:
            break
        chunks += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunks)
            records.append(record)
            chunks = b""
    return records


def _wandb_history(records) -> dict[int, dict]:
    rows: dict[int, dict] = {}
    for record in records:
        if record.WhichOneof("record_type") == "history":
            row = {
                "/".join(i.nested_key) or i.key: json.loads(i.value_json)
                for i in record.history.item
            }
            rows.setdefault(row["_step"], {}).update(row)
    return rows


def test_tensorboard_event_file_holds_train_and_val_scalars_and_panels(tracked_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(_vis_data(tracked_run)), size_guidance={"scalars": 0})
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert TRAIN_KEYS | VAL_KEYS <= tags, sorted(TRAIN_KEYS | VAL_KEYS - tags)
    for key in TRAIN_KEYS:
        points = events.Scalars(key)
        assert [p.step for p in points] == [1, 2, 3, 4, 5], key
        assert all(math.isfinite(p.value) for p in points), key
    for key in VAL_KEYS:
        points = events.Scalars(key)
        assert [p.step for p in points] == VAL_STEPS, key
        assert all(0 <= p.value <= 1 for p in points), key
    # The val loop's timings have their own curve, not points in the training-speed one.
    assert [p.step for p in events.Scalars("val_time")] == VAL_STEPS
    (panel,) = events.Tags()["images"]
    assert panel.startswith("val_") and len(events.Images(panel)) == len(VAL_STEPS)


def test_wandb_offline_run_records_config_metrics_and_panels(tracked_run):
    (run_dir,) = (_vis_data(tracked_run) / "wandb").glob("offline-run-*")
    records = read_wandb_records(next(run_dir.glob("run-*.wandb")))
    config = {
        item.key: json.loads(item.value_json)
        for record in records
        if record.WhichOneof("record_type") == "config"
        for item in record.config.update
    }
    assert config["train_cfg"]["max_iters"] == 5 and config["model"]["type"] == "EncoderDecoder"
    rows = _wandb_history(records)
    # Logged at the Runner's iteration, not at W&B's own per-call counter.
    assert sorted(rows) == [1, 2, 3, 4, 5]
    for step, row in rows.items():
        assert TRAIN_KEYS <= row.keys(), (step, sorted(TRAIN_KEYS - row.keys()))
        assert all(math.isfinite(row[k]) for k in TRAIN_KEYS)
    for step in VAL_STEPS:
        assert VAL_KEYS <= rows[step].keys() and 0 <= rows[step]["mIoU"] <= 1
        assert any(k.startswith("val_") for k in rows[step])  # the panel image
    assert not any("mIoU" in rows[step] for step in (1, 3))
    assert len(list(run_dir.glob("files/media/images/val_*.png"))) == len(VAL_STEPS)


def test_visualization_hook_writes_image_gt_prediction_overlay_panels(tracked_run):
    panels = sorted((_vis_data(tracked_run) / "vis_image").glob("val_*.png"))
    steps = sorted(int(p.stem.rsplit("_", 1)[1]) for p in panels)
    assert steps == VAL_STEPS
    panel = cv2.imread(str(panels[0]))
    assert panel.shape == (128, 4 * 256, 3)  # four 128x256 parts
    image, overlay = panel[:, :256].astype(int), panel[:, 768:].astype(int)
    assert 0 < abs(image - overlay).mean() < 128  # a blend, neither part alone


def test_local_json_log_holds_every_scalar(tracked_run):
    lines = (_vis_data(tracked_run) / "scalars.json").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    train = [r for r in rows if "loss" in r]
    assert [r["step"] for r in train] == [1, 2, 3, 4, 5]
    assert all(TRAIN_KEYS <= r.keys() for r in train)
    assert [r["step"] for r in rows if "mIoU" in r] == VAL_STEPS


@pytest.mark.parametrize(("tensorboard", "wandb"), [(True, False), (False, True), (True, True)])
def test_one_switch_adds_each_backend_once(tensorboard, wandb, tmp_path):
    from vipseg.visualization import SegLocalVisualizer

    listed = [dict(type="LocalVisBackend"), dict(type="TensorboardVisBackend")]
    vis = SegLocalVisualizer(
        name=f"switch-{tensorboard}-{wandb}",
        vis_backends=listed,
        save_dir=str(tmp_path),
        tensorboard=tensorboard,
        wandb=wandb,
    )
    names = sorted(vis._vis_backends)
    expected = ["LocalVisBackend", "TensorboardVisBackend"] + (["SegWandbVisBackend"] * wandb)
    assert names == sorted(expected)


def test_wandb_runs_offline_unless_asked(monkeypatch, tmp_path):
    from vipseg.visualization import SegWandbVisBackend

    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert SegWandbVisBackend(str(tmp_path))._init_kwargs["mode"] == "offline"
    monkeypatch.setenv("WANDB_MODE", "online")
    assert SegWandbVisBackend(str(tmp_path))._init_kwargs["mode"] == "online"
    backend = SegWandbVisBackend(str(tmp_path), init_kwargs=dict(mode="disabled", project="p"))
    assert backend._init_kwargs == dict(mode="disabled", project="p")


def test_wandb_missing_names_the_install_command(monkeypatch, tmp_path):
    import sys

    from vipseg.visualization import SegWandbVisBackend

    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb -> ImportError
    with pytest.raises(ImportError, match="pip install wandb"):
        SegWandbVisBackend(str(tmp_path)).add_scalars({"loss": 1.0}, step=1)
