"""setup_cpu_distributed: gloo on a CPU-only machine, with the config's collective timeout."""

import datetime

import pytest
import torch
from mmengine.config import Config

from vipseg.utils import dist as vdist


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU-only path")
@pytest.mark.parametrize(("dist_cfg", "seconds"), [({}, 1800), ({"timeout": 60}, 60)])
def test_gloo_group_gets_the_configs_timeout(monkeypatch, dist_cfg, seconds):
    calls = []
    monkeypatch.setattr(vdist.torch_dist, "is_initialized", lambda: False)
    monkeypatch.setattr(vdist.torch_dist, "init_process_group", lambda **kw: calls.append(kw))
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    cfg = Config(dict(launcher="pytorch", env_cfg=dict(dist_cfg=dict(backend="nccl", **dist_cfg))))
    vdist.setup_cpu_distributed(cfg)
    assert calls == [
        dict(backend="gloo", rank=1, world_size=2, timeout=datetime.timedelta(seconds=seconds))
    ]
    assert cfg.env_cfg.dist_cfg.backend == "gloo"
    assert cfg.model_wrapper_cfg.device_ids is None
