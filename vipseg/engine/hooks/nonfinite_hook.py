"""Skips the update when the loss or a gradient is not finite, and stops (or counts) it."""

import torch
from mmengine.hooks import Hook

from vipseg.registry import HOOKS
from vipseg.utils.errors import TrainingError

from .step_utils import gradients, is_logged_iteration, logger_interval, optimizers_of, total_norm


def _terms(outputs: dict | None) -> str:
    """`` (loss=nan, decode.loss_ce=nan)``: the step's logged loss terms."""
    terms = ", ".join(f"{k}={float(v):.4g}" for k, v in (outputs or {}).items() if "loss" in k)
    return f" ({terms})" if terms else ""


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Guards every optimizer step against NaN / inf.

    An optimizer step pre-hook takes the norm of all gradients (non-finite if the loss or any
    gradient is). A bad step is skipped: the weights, momenta and step counts stay as they
    were. Then with ``action='stop'`` the run ends with a :class:`TrainingError` naming the
    iteration (``tools/train.py`` prints it as one line, exit 3); with ``action='skip'`` a
    warning names it, ``skipped_steps`` counts skipped steps in the log, and after
    ``max_skips`` the run stops anyway. Under DDP the gradients are all-reduced before the
    step, so all ranks decide alike.

    Two ways, chosen per optimizer:

    - fused optimizers (``SGD``/``Adam``/``AdamW`` with ``fused=True``, vipseg's default,
      ``vipseg.utils.speed``): the flag stays on the device and is handed to the fused kernel
      as ``found_inf`` (the mechanism AMP's grad scaler uses), which skips the update on the
      device. No host-device sync per step: the flags are read once per log interval, so a
      stop or warning comes at the next logged iteration, naming the first bad one (and its
      loss terms when that is the logged iteration).
    - others: the flag is read at once (one sync per step) and the gradients are dropped, so
      the step changes nothing; the error names the step's loss terms.

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
        self._bad = False  # sync way: this iteration's step was skipped
        self._iter = 0
        self._flags: torch.Tensor | None = None  # fused way: [skipped count, first bad iter]

    def before_train(self, runner) -> None:
        self.interval = logger_interval(runner, default=1)
        for optimizer in optimizers_of(runner.optim_wrapper):
            optimizer.register_step_pre_hook(self._guard)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._iter = runner.iter

    def _guard(self, optimizer, args, kwargs) -> None:
        grads = gradients(optimizer)
        if not grads:
            return
        bad = ~torch.isfinite(total_norm(grads))
        if optimizer.defaults.get("fused"):
            optimizer.grad_scale, optimizer.found_inf = None, bad.float()
            self._record(bad)
        elif bool(bad):
            self._bad = True
            for group in optimizer.param_groups:
                for p in group["params"]:
                    p.grad = None

    def _record(self, bad: torch.Tensor) -> None:
        if self._flags is None:
            self._flags = torch.tensor([0, -1], device=bad.device)
        first = torch.where(bad & (self._flags[1] < 0), self._iter, self._flags[1])
        self._flags = torch.stack([self._flags[0] + bad.long(), first])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bad:
            self._bad = False
            terms = ", ".join(
                f"{k}={float(v):.4g}" for k, v in (outputs or {}).items() if "loss" in k
            )
            self._report(runner, runner.iter, 1, f" ({terms})")
        if self._flags is not None and is_logged_iteration(runner, self.interval):
            count, first = self._flags.tolist()  # the one sync per log interval
            self._flags = None
            if count:
                self._report(runner, first, count, _terms(outputs) if first == runner.iter else "")

    def _report(self, runner, first: int, count: int, terms: str) -> None:
        where = f"iteration {first + 1}: the loss or its gradients are not finite{terms}"
        if self.action == "stop":
            raise TrainingError(
                f"{where}; the update was skipped and training stopped. Lower the learning "
                "rate, check the data, or set NonFiniteCheckHook(action='skip')"
            )
        self.skipped += count
        runner.message_hub.update_scalar("train/skipped_steps", self.skipped)
        runner.logger.warning(f"{where}; {count} update(s) skipped ({self.skipped} so far)")
        if self.skipped > self.max_skips:
            raise TrainingError(f"{self.skipped} non-finite steps, more than max_skips")
