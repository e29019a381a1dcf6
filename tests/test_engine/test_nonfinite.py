"""NonFiniteCheckHook and SegCheckpointHook: a NaN never updates the weights or gets saved."""

import math
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from mmengine.hooks import LoggerHook
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper

from vipseg.engine.hooks import NonFiniteCheckHook, SegCheckpointHook
from vipseg.utils import TrainingError


def _setup(name: str, hook: NonFiniteCheckHook, fused: bool = False, log_every: int = 1):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=fused)
    wrapper = OptimWrapper(sgd)
    hub = MessageHub.get_instance(name)
    runner = SimpleNamespace(
        optim_wrapper=wrapper,
        message_hub=hub,
        iter=0,
        max_iters=100,
        hooks=[LoggerHook(interval=log_every)],
        logger=MMLogger.get_instance(name),
    )
    hook.before_train(runner)
    return model, wrapper, runner


def _step(model, wrapper, runner, hook, scale: float) -> None:
    hook.before_train_iter(runner, runner.iter)
    loss = model(torch.ones(2, 3)).sum() * scale
    wrapper.update_params(loss)
    hook.after_train_iter(runner, runner.iter, outputs=dict(loss=loss.detach()))
    runner.iter += 1


@pytest.mark.parametrize("fused", [False, True], ids=["sync", "fused"])
def test_stop_skips_the_update_and_names_the_iteration(fused):
    hook = NonFiniteCheckHook(action="stop")
    model, wrapper, runner = _setup(f"nonfinite-stop-{fused}", hook, fused)
    _step(model, wrapper, runner, hook, 1.0)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(TrainingError, match=r"iteration 2: the loss .* not finite \(loss=nan\)"):
        _step(model, wrapper, runner, hook, math.nan)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_fused_way_skips_on_the_device_and_reports_at_the_log_interval():
    hook = NonFiniteCheckHook(action="stop")
    model, wrapper, runner = _setup("nonfinite-fused-late", hook, fused=True, log_every=4)
    reference = torch.nn.Linear(3, 1)
    reference.load_state_dict(model.state_dict())
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9, fused=True)
    for scale in (1.0, math.nan, 2.0):  # iterations 1-3: no report before iteration 4
        _step(model, wrapper, runner, hook, scale)
        if scale == scale:
            (reference(torch.ones(2, 3)).sum() * scale).backward()
            ref_opt.step()
            ref_opt.zero_grad()
    # The bad step changed nothing: the model equals one that never saw it.
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), reference.parameters()))
    with pytest.raises(TrainingError, match="iteration 2: the loss or its gradients"):
        _step(model, wrapper, runner, hook, 3.0)


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
