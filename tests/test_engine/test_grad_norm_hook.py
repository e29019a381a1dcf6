"""GradNormHook: the true gradient norm, measured only on the logger's iterations."""

from types import SimpleNamespace

import pytest
import torch
from mmengine.hooks import LoggerHook
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from vipseg.engine.hooks import GradNormHook


def _run(steps: int, clip_grad: dict | None, name: str):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), clip_grad=clip_grad)
    hub = MessageHub.get_instance(name)
    wrapper.message_hub = hub
    runner = SimpleNamespace(
        hooks=[LoggerHook(interval=2)], optim_wrapper=wrapper, message_hub=hub, iter=0
    )
    hook = GradNormHook()
    hook.before_train(runner)
    expected = []
    for i in range(steps):
        runner.iter = i
        hook.before_train_iter(runner, i)
        loss = model(torch.randn(16, 4)).square().mean()
        loss.backward()
        grads = [p.grad.flatten() for p in model.parameters()]
        expected.append(torch.cat(grads).norm().item())
        wrapper.step()
        wrapper.zero_grad()
        hook.after_train_iter(runner, i)
    buffer = hub.log_scalars.get("train/grad_norm")
    return expected, [] if buffer is None else list(buffer.data[0])


def test_logs_the_gradient_norm_on_the_loggers_iterations_only():
    expected, logged = _run(steps=6, clip_grad=None, name="gradnorm-plain")
    # LoggerHook(interval=2) prints iterations 2, 4, 6 (runner.iter 1, 3, 5).
    assert logged == pytest.approx([expected[1], expected[3], expected[5]], rel=1e-5)


def test_leaves_the_norm_to_mmengine_when_clipping():
    expected, logged = _run(steps=4, clip_grad=dict(max_norm=1e6), name="gradnorm-clip")
    assert logged == pytest.approx(expected, rel=1e-5)  # mmengine's own, every step


def test_interval_must_be_positive():
    with pytest.raises(ValueError, match="interval"):
        GradNormHook(interval=0)
