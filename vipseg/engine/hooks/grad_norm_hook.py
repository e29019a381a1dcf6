"""Logs the gradient norm without a host-device sync on every training step."""

import torch
from mmengine.hooks import Hook

from vipseg.registry import HOOKS

from .step_utils import gradients, logger_interval, optimizers_of, total_norm


@HOOKS.register_module()
class GradNormHook(Hook):
    """Logs ``grad_norm``, the L2 norm of all gradients, on the logger's iterations.

    mmengine logs it only when gradient clipping is on, and then converts it to a Python
    float on every step, which waits for the GPU. Here an optimizer step pre-hook measures
    the norm (after a loss scaler has unscaled the gradients, before the update) only on the
    iterations the ``LoggerHook`` prints, so the other steps pay nothing. With clipping on,
    mmengine's own per-step value is kept and this hook does nothing.

    Args:
        interval: log every ``interval`` iterations; ``None`` takes the ``LoggerHook``'s.
    """

    priority = "NORMAL"  # before the LoggerHook (BELOW_NORMAL) reads the message hub

    def __init__(self, interval: int | None = None):
        if interval is not None and interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.interval = interval
        self._armed = False
        self._norm: torch.Tensor | None = None

    def before_train(self, runner) -> None:
        if self.interval is None:
            self.interval = logger_interval(runner, default=50)
        wrapper = runner.optim_wrapper
        self._active = not getattr(wrapper, "clip_grad_kwargs", None)
        if self._active:
            for optimizer in optimizers_of(wrapper):
                optimizer.register_step_pre_hook(self._measure)

    def _measure(self, optimizer, args, kwargs) -> None:
        if not self._armed:
            return
        grads = gradients(optimizer)
        if grads:
            self._norm = total_norm([g.detach() for g in grads])

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._armed = self._active and self.every_n_train_iters(runner, self.interval)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._armed and self._norm is not None:
            runner.message_hub.update_scalar("train/grad_norm", float(self._norm))
        self._armed, self._norm = False, None
