"""NonFiniteCheckHook and SegCheckpointHook: a NaN never updates the weights or gets saved."""

import math
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper

from vipseg.engine.hooks import NonFiniteCheckHook, SegCheckpointHook
from vipseg.utils import TrainingError


def _setup(name: str, hook: NonFiniteCheckHook):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    hub = MessageHub.get_instance(name)
    runner = SimpleNamespace(
        optim_wrapper=wrapper, message_hub=hub, iter=0, logger=MMLogger.get_instance(name)
    )
    hook.before_train(runner)
    return model, wrapper, runner


def _step(model, wrapper, runner, hook, scale: float) -> None:
    loss = model(torch.ones(2, 3)).sum() * scale
    wrapper.update_params(loss)
    hook.after_train_iter(runner, runner.iter, outputs=dict(loss=loss.detach()))
    runner.iter += 1


def test_stop_skips_the_update_and_names_the_iteration():
    hook = NonFiniteCheckHook(action="stop")
    model, wrapper, runner = _setup("nonfinite-stop", hook)
    _step(model, wrapper, runner, hook, 1.0)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(TrainingError, match=r"iteration 2: the loss .* not finite \(loss=nan\)"):
        _step(model, wrapper, runner, hook, math.nan)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_skip_keeps_weights_and_momentum_counts_and_continues():
    hook = NonFiniteCheckHook(action="skip", max_skips=1)
    model, wrapper, runner = _setup("nonfinite-skip", hook)
    _step(model, wrapper, runner, hook, 1.0)
    before = [p.detach().clone() for p in model.parameters()]
    momentum = [wrapper.optimizer.state[p]["momentum_buffer"].clone() for p in model.parameters()]
    _step(model, wrapper, runner, hook, math.inf)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    after = [wrapper.optimizer.state[p]["momentum_buffer"] for p in model.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(momentum, after))
    assert runner.message_hub.get_scalar("train/skipped_steps").current() == 1
    _step(model, wrapper, runner, hook, 1.0)  # a finite step updates again
    assert not torch.equal(before[0], model.weight)
    with pytest.raises(TrainingError, match="2 non-finite steps, more than max_skips"):
        _step(model, wrapper, runner, hook, math.nan)


def test_bad_arguments():
    with pytest.raises(ValueError, match="action"):
        NonFiniteCheckHook(action="ignore")
    with pytest.raises(ValueError, match="max_skips"):
        NonFiniteCheckHook(max_skips=-1)


def test_a_model_with_nan_is_never_saved_as_best_or_as_a_checkpoint():
    model = torch.nn.BatchNorm2d(2)
    model.running_mean[0] = math.nan  # e.g. after a forward pass on a corrupt batch
    runner = SimpleNamespace(
        model=model,
        logger=mock.Mock(),
        save_checkpoint=mock.Mock(),
        message_hub=MessageHub.get_instance("nonfinite-best"),
        epoch=0,
        iter=10,
    )
    hook = SegCheckpointHook(interval=2, by_epoch=False, save_best="mIoU")
    hook._save_best_checkpoint(runner, dict(mIoU=0.9))
    hook._save_checkpoint_with_step(runner, 10, dict(iter=10))
    runner.save_checkpoint.assert_not_called()
    assert "non-finite" in runner.logger.error.call_args_list[0].args[0]
    assert "best_score" not in runner.message_hub.runtime_info


def test_the_pointer_moves_only_after_its_checkpoint_is_written(tmp_path):
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "iter_2.pth"))
    runner = SimpleNamespace(
        model=torch.nn.Linear(2, 2),
        logger=mock.Mock(),
        save_checkpoint=mock.Mock(side_effect=OSError("killed mid-save")),
        message_hub=MessageHub.get_instance("pointer-order"),
        work_dir=str(tmp_path),
    )
    hook = SegCheckpointHook(interval=2, by_epoch=False, out_dir=str(tmp_path))
    hook.file_backend = mock.Mock(join_path=lambda *parts: "/".join(parts))
    hook.out_dir = str(tmp_path)
    with pytest.raises(OSError, match="killed mid-save"):
        hook._save_checkpoint_with_step(runner, 4, dict(iter=4))
    assert (tmp_path / "last_checkpoint").read_text() == str(tmp_path / "iter_2.pth")
    runner.save_checkpoint = mock.Mock()  # now the save completes
    hook._save_checkpoint_with_step(runner, 4, dict(iter=4))
    assert (tmp_path / "last_checkpoint").read_text() == f"{tmp_path}/iter_4.pth"
