"""Stops, or skips the update, when the loss or a gradient is not finite."""

import torch
from mmengine.hooks import Hook

from vipseg.registry import HOOKS
from vipseg.utils.errors import TrainingError


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Guards every optimizer step against NaN / inf.

    An optimizer step pre-hook checks the gradients (a non-finite loss gives non-finite
    gradients). If one is not finite, the update is skipped: every gradient is dropped, so
    SGD/AdamW leave the weights, momenta and step counts as they were. Then, after the
    iteration, with ``action='stop'`` the run ends with a :class:`TrainingError` naming the
    iteration and the logged loss terms (``tools/train.py`` prints it as one line, exit 3);
    with ``action='skip'`` a warning names them, ``skipped_steps`` counts them in the log,
    and after ``max_skips`` skipped steps the run stops anyway. Under DDP the gradients are
    all-reduced before the step, so all ranks decide alike. Costs one host-device sync per
    step. Under an AMP loss scaler, steps with inf gradients are skipped by the scaler
    itself before this check (its normal loss-scale search), so only the loss is watched.

    Args:
        action: ``'stop'`` or ``'skip'``.
        max_skips: with ``'skip'``, the most skipped steps a run may have.
    """

    priority = "ABOVE_NORMAL"  # before the checkpoint and logger hooks of the same iteration

    def __init__(self, action: str = "stop", max_skips: int = 100):
        if action not in ("stop", "skip"):
            raise ValueError(f"action must be 'stop' or 'skip', got {action!r}")
        if max_skips < 0:
            raise ValueError(f"max_skips must be >= 0, got {max_skips}")
        self.action, self.max_skips = action, max_skips
        self.skipped = 0
        self._bad = False

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        wrappers = (
            wrapper.optim_wrappers.values() if hasattr(wrapper, "optim_wrappers") else [wrapper]
        )
        for w in wrappers:
            w.optimizer.register_step_pre_hook(self._guard)

    def _guard(self, optimizer, args, kwargs) -> None:
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        if not grads or bool(torch.stack([g.isfinite().all() for g in grads]).all()):
            return
        self._bad = True
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.grad = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        outputs = outputs or {}
        loss = outputs.get("loss")
        if loss is not None and not torch.isfinite(torch.as_tensor(loss)).all():
            self._bad = True  # e.g. an AMP scaler skipped the step before the guard saw it
        if not self._bad:
            return
        self._bad = False
        terms = ", ".join(f"{k}={float(v):.4g}" for k, v in outputs.items() if "loss" in k)
        where = f"iteration {runner.iter + 1}: the loss or its gradients are not finite ({terms})"
        if self.action == "stop":
            raise TrainingError(
                f"{where}; the update was skipped and training stopped. Lower the learning "
                "rate, check the data, or set NonFiniteCheckHook(action='skip')"
            )
        self.skipped += 1
        runner.message_hub.update_scalar("train/skipped_steps", self.skipped)
        runner.logger.warning(f"{where}; update skipped ({self.skipped} so far)")
        if self.skipped > self.max_skips:
            raise TrainingError(f"{self.skipped} non-finite steps, more than max_skips")
