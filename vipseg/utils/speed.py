"""The speed settings tools/train.py and benchmark_train.py share (docs/benchmarks.md)."""

import importlib.util
import logging
import shutil

import torch
from mmengine.logging import print_log


def apply_speed_settings(
    cfg, amp: bool = False, no_amp: bool = False, compile: bool = False
) -> None:
    """The fast defaults on CUDA (docs/benchmarks.md), applied to ``cfg`` in place.

    Where CUDA is available and the config says so (``amp``, ``channels_last`` in
    ``default_runtime.py``): bf16 autocast through :class:`SegAmpOptimWrapper`, channels-last
    batches and weights, pinned loader memory. Everywhere: fused SGD/Adam/AdamW. ``amp``
    forces bf16 (also on CPU), ``no_amp`` turns it off, ``compile`` sets ``cfg.compile``; a
    compile that cannot work here is dropped with a warning. Used by ``tools/train.py`` and
    ``benchmark_train.py`` alike.
    """
    cuda = torch.cuda.is_available()
    if (amp or (bool(cfg.get("amp", False)) and cuda)) and not no_amp:
        if cfg.optim_wrapper.get("type", "OptimWrapper") in ("OptimWrapper", "AmpOptimWrapper"):
            cfg.optim_wrapper.type = "SegAmpOptimWrapper"
            for key in ("dtype", "loss_scale"):  # AmpOptimWrapper's, not SegAmpOptimWrapper's
                cfg.optim_wrapper.pop(key, None)
    if cuda and cfg.get("channels_last", False):
        cfg.model.data_preprocessor.channels_last = True
    for name in ("train_dataloader", "val_dataloader", "test_dataloader"):
        if cuda and cfg.get(name) is not None:
            cfg[name].setdefault("pin_memory", True)
    _use_fused_optimizer(cfg, "cuda" if cuda else "cpu")
    if compile:
        cfg.compile = True
    if cfg.get("compile") and (reason := compile_unavailable("cuda" if cuda else "cpu")):
        print_log(
            f"vipseg: torch.compile unavailable ({reason}): training uncompiled",
            logger="current",
            level=logging.WARNING,
        )
        cfg.compile = None


FUSABLE = ("SGD", "Adam", "AdamW")


def _use_fused_optimizer(cfg, device: str) -> None:
    """``fused=True`` for SGD/Adam/AdamW unless the config chose ``fused`` or ``foreach``.

    One kernel updates every parameter (fewer launches than foreach), and a fused step takes
    ``found_inf``, which lets ``NonFiniteCheckHook`` skip a bad step without a host sync.
    """
    optimizer = cfg.optim_wrapper.get("optimizer") or {}
    name = optimizer.get("type")
    if name not in FUSABLE or "fused" in optimizer or "foreach" in optimizer:
        return
    try:  # torch builds without a fused kernel for this device refuse at construction
        getattr(torch.optim, name)([torch.zeros(1, device=device, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return
    optimizer["fused"] = True


def compile_unavailable(device: str) -> str | None:
    """Why ``torch.compile`` cannot work here, or None: inductor needs triton on CUDA and a
    C++ compiler on CPU."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if device == "cuda" and importlib.util.find_spec("triton") is None:
        return "triton is not installed"
    if device == "cpu" and not (shutil.which("c++") or shutil.which("g++")):
        return "no C++ compiler on PATH"
    return None
