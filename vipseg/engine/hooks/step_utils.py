"""What the hooks that watch the optimizer step share: gradients, their norm, the log rhythm."""

import torch
from mmengine.hooks import LoggerHook


def logger_interval(runner, default: int) -> int:
    """The ``LoggerHook``'s interval, the iterations whose values get logged."""
    loggers = [h for h in runner.hooks if isinstance(h, LoggerHook)]
    return loggers[0].interval if loggers else default


def is_logged_iteration(runner, interval: int) -> bool:
    """Whether the current training iteration is logged: every ``interval``-th, and the last."""
    return (runner.iter + 1) % interval == 0 or runner.iter + 1 >= runner.max_iters


def optimizers_of(wrapper) -> list[torch.optim.Optimizer]:
    """The optimizers of an ``OptimWrapper`` or of an ``OptimWrapperDict`` (one per part)."""
    if hasattr(wrapper, "optim_wrappers"):
        return [w.optimizer for w in wrapper.optim_wrappers.values()]
    return [wrapper.optimizer]


def gradients(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]


def total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """The L2 norm of all ``grads`` together, on their device (non-finite if any value is)."""
    if hasattr(torch.nn.utils, "get_total_norm"):  # torch >= 2.6: foreach kernels
        return torch.nn.utils.get_total_norm(grads, foreach=True)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
