"""Distributed set-up that mmengine's launcher code does not cover: CPU-only machines."""

import datetime
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from .errors import ConfigError


def setup_cpu_distributed(cfg: Config) -> None:
    """Make a ``--launcher pytorch`` run work on a machine without a GPU.

    mmengine's launcher calls ``torch.cuda.set_device`` and wraps the model with
    ``device_ids=[LOCAL_RANK]``, both of which fail on CPU. Here the process group is started
    with gloo first (mmengine then skips its own), with ``env_cfg.dist_cfg.timeout`` seconds
    (default 1800) as every collective's time limit, and the wrapper gets no device ids.
    """
    if cfg.get("launcher", "none") == "none" or torch.cuda.is_available():
        return
    cfg.env_cfg.setdefault("dist_cfg", {})["backend"] = "gloo"
    if not torch_dist.is_initialized():
        if cfg.launcher != "pytorch":
            raise ConfigError(
                f"launcher {cfg.launcher!r} without a GPU is not supported; "
                "use --launcher pytorch (torchrun)"
            )
        # mmengine's init_dist honours dist_cfg.timeout; so must this: without it a peer that
        # vanishes without a TCP reset blocks every collective for gloo's default 30 minutes.
        timeout = cfg.env_cfg.dist_cfg.get("timeout", 1800)
        torch_dist.init_process_group(
            backend="gloo",
            rank=int(os.environ["RANK"]),
            world_size=int(os.environ["WORLD_SIZE"]),
            timeout=datetime.timedelta(seconds=timeout),
        )
    cfg.model_wrapper_cfg = dict(
        type="MMDistributedDataParallel",
        device_ids=None,  # mmengine's default, [LOCAL_RANK], is for GPUs only
        broadcast_buffers=False,
        find_unused_parameters=cfg.get("find_unused_parameters", False),
    )
