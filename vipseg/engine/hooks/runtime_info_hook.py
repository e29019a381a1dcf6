"""Training-step scalars reach the message hub once per log interval, not once per step."""

import torch
from mmengine.hooks import RuntimeInfoHook

from vipseg.registry import HOOKS

from .step_utils import is_logged_iteration, logger_interval


@HOOKS.register_module()
class SegRuntimeInfoHook(RuntimeInfoHook):
    """mmengine's ``RuntimeInfoHook`` without its host-device sync on every training step.

    mmengine puts each step's loss terms into the message hub as Python floats, and turning a
    CUDA tensor into a float waits for the GPU: the CPU can no longer queue the next step's
    work while the GPU runs this one. Here the step's outputs stay on the device (detached)
    until an iteration the ``LoggerHook`` prints (or the last one); then all of them come
    back in one transfer and enter the message hub in order, so every logged value, window
    mean and backend sees exactly what mmengine's hook would have given.

    Args:
        interval: flush every ``interval`` iterations; ``None`` takes the ``LoggerHook``'s.
    """

    def __init__(self, interval: int | None = None):
        if interval is not None and interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.interval = interval
        self._pending: list[dict] = []

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.interval is None:
            self.interval = logger_interval(runner, default=1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if outputs:
            self._pending.append(
                {k: v.detach() if isinstance(v, torch.Tensor) else v for k, v in outputs.items()}
            )
        if is_logged_iteration(runner, self.interval):
            self.flush(runner)

    def flush(self, runner) -> None:
        """Move the pending step outputs to the host in one transfer; update the hub."""
        if not self._pending:
            return
        tensors = [v for step in self._pending for v in step.values() if torch.is_tensor(v)]
        host = (
            iter(torch.stack([t.float().reshape(()) for t in tensors]).tolist())
            if tensors
            else iter(())
        )
        for step in self._pending:
            for key, value in step.items():
                value = next(host) if torch.is_tensor(value) else value
                runner.message_hub.update_scalar(f"train/{key}", value)
        self._pending = []

    def after_train(self, runner) -> None:
        self.flush(runner)
        super().after_train(runner)
