"""Checkpoints mmengine writes load with torch.load(weights_only=True), and only those."""

import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from vipseg.engine.checkpoint import allowlist_checkpoint_globals, history_buffer_getattr


def _roundtrip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_message_hub_state_loads_with_weights_only():
    allowlist_checkpoint_globals()
    hub = MessageHub.get_instance("vipseg-test-checkpoint")
    hub.update_scalar("train/loss", 0.5)
    hub.update_scalar("train/loss", np.float32(0.25))
    hub.update_info("iter", 7)
    state = dict(message_hub=hub.state_dict(), meta=dict(seed=np.int64(3)))
    loaded = _roundtrip(state)
    buffer = loaded["message_hub"]["log_scalars"]["train/loss"]
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.375) and buffer.current() == pytest.approx(0.25)
    assert loaded["message_hub"]["runtime_info"]["iter"] == 7
    assert loaded["meta"]["seed"] == 3


def test_getattr_in_a_checkpoint_is_limited_to_history_buffer_statistics():
    assert history_buffer_getattr(HistoryBuffer, "mean") is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match="only HistoryBuffer statistics"):
        history_buffer_getattr(HistoryBuffer, "__init__")
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(np.ndarray, "min")


class _Exploit:
    def __reduce__(self):  # what a crafted checkpoint would do: call an arbitrary function
        return (getattr, (HistoryBuffer, "__init__"))


def test_a_crafted_getattr_is_refused_at_load_time():
    allowlist_checkpoint_globals()
    buffer = io.BytesIO()
    torch.save({"x": _Exploit()}, buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buffer, weights_only=True)
