"""Logs the gradient norm without a host-device sync on every training step."""

import torch
from mmengine.hooks import Hook, LoggerHook

from vipseg.registry import HOOKS


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
            loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
            self.interval = loggers[0].interval if loggers else 50
        wrapper = runner.optim_wrapper
        self._active = not getattr(wrapper, "clip_grad_kwargs", None)
        if self._active:
            for optimizer in _optimizers(wrapper):
                optimizer.register_step_pre_hook(self._measure)

    def _measure(self, optimizer, args, kwargs) -> None:
        if not self._armed:
            return
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if grads:
            norms = torch.stack([torch.linalg.vector_norm(g.detach().float()) for g in grads])
            self._norm = torch.linalg.vector_norm(norms)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._armed = self._active and self.every_n_train_iters(runner, self.interval)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._armed and self._norm is not None:
            runner.message_hub.update_scalar("train/grad_norm", float(self._norm))
        self._armed, self._norm = False, None


def _optimizers(wrapper) -> list[torch.optim.Optimizer]:
    # An OptimWrapperDict (one optimizer per sub-model) holds several wrappers.
    if hasattr(wrapper, "optim_wrappers"):
        return [w.optimizer for w in wrapper.optim_wrappers.values()]
    return [wrapper.optimizer]
