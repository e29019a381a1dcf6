"""Models whose configs use SyncBN, under real 2-process DDP on gloo (CPU).

Built inside the gloo group, each model's SyncBN layers become ``GlooSyncBatchNorm`` (torch's
``SyncBatchNorm`` refuses CPU tensors); it predicts (eval mode: running statistics, no
communication) and trains under mmengine's DDP wrapper: two steps on different data per rank,
from different initial weights per rank, end with the same weights on both ranks and the same
BN running statistics (plain per-rank BN would give each rank its own batch's). NCCL's
SyncBN itself needs GPUs.
"""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from torch import nn

from vipseg.models.utils.sync_bn import GlooSyncBatchNorm

# (config, overrides that make it small): each model's norm_cfg stays the config's SyncBN.
# Add a model with one entry here.
DDP_MODELS = [
    pytest.param(
        "configs/unet/unet_minicity.py",
        {
            "model.backbone.base_channels": 4,
            "model.decode_head.in_channels": 4,
            "model.decode_head.channels": 4,
        },
        id="unet",
    ),
    pytest.param(
        "configs/unet/attention_unet_minicity.py",
        {
            "model.backbone.base_channels": 4,
            "model.decode_head.in_channels": 4,
            "model.decode_head.channels": 4,
            "model.auxiliary_head.0.in_channels": 8,
            "model.auxiliary_head.0.channels": 8,
            "model.auxiliary_head.1.in_channels": 16,
            "model.auxiliary_head.1.channels": 16,
        },
        id="attention_unet",
    ),
    pytest.param(
        "configs/deeplabv3plus/deeplabv3plus_r50_minicity.py",
        {
            "model.backbone.depth": 18,
            "model.backbone.base_channels": 4,
            "model.backbone.stem_channels": 4,
            "model.decode_head.in_channels": 32,
            "model.decode_head.channels": 8,
            "model.decode_head.c1_in_channels": 4,
            "model.decode_head.c1_channels": 4,
            "model.auxiliary_head.in_channels": 16,
            "model.auxiliary_head.channels": 4,
        },
        id="deeplabv3plus",
    ),
    pytest.param(
        "configs/acfnet/acfnet_r50_minicity.py",
        {
            "model.backbone.depth": 18,
            "model.backbone.base_channels": 4,
            "model.backbone.stem_channels": 4,
            "model.decode_head.in_channels": 32,
            "model.decode_head.channels": 8,
            "model.decode_head.acf_channels": 4,
            "model.auxiliary_head.in_channels": 16,
            "model.auxiliary_head.channels": 4,
        },
        id="acfnet",
    ),
]
H, W = 40, 52  # not a multiple of 16 or 32


def _data(rank: int, num_classes: int) -> dict:
    from vipseg.structures import SegDataSample

    gen = torch.Generator().manual_seed(100 + rank)  # different data on each rank
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W)))
        labels = torch.randint(0, num_classes, (1, H, W), generator=gen)
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    images = [torch.randint(0, 255, (3, H, W), dtype=torch.uint8, generator=gen) for _ in range(2)]
    return dict(inputs=images, data_samples=samples)


def _gathered_params(model: nn.Module) -> list[torch.Tensor]:
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    out = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
    dist.all_gather(out, flat)
    return out


def _rank(rank: int, init_file: str, config: str, overrides: dict, results) -> None:
    from vipseg.registry import MODELS
    from vipseg.utils import load_config, register_all_modules

    torch.set_num_threads(1)
    register_all_modules()
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        cfg = load_config(config)
        cfg.merge_from_dict(overrides)
        cfg.model.data_preprocessor.size = None
        torch.manual_seed(rank)  # different initial weights: DDP must broadcast rank 0's
        model = MODELS.build(cfg.model)
        out = dict(sync_bn=sum(isinstance(m, GlooSyncBatchNorm) for m in model.modules()))
        out["torch_sync_bn"] = sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
        data = _data(rank, model.num_classes)
        model.eval()
        with torch.no_grad():
            preds = model.test_step(data)
        out["pred_shape"] = tuple(preds[0].pred_sem_seg.shape)
        model.train()
        out["differ_before"] = not torch.equal(*_gathered_params(model))
        ddp = MMDistributedDataParallel(module=model, device_ids=None, broadcast_buffers=False)
        wrapper = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
        start = torch.cat([p.detach().flatten() for p in model.parameters()])
        # Two steps: a parameter without a gradient would make the second one fail.
        out["losses"] = [float(ddp.train_step(data, wrapper)["loss"]) for _ in range(2)]
        rank0, rank1 = _gathered_params(model)
        out["equal_after"] = torch.equal(rank0, rank1)
        stats = torch.cat([b.flatten() for n, b in model.named_buffers() if "running_" in n])
        gathered = [torch.empty_like(stats) for _ in range(2)]
        dist.all_gather(gathered, stats)
        out["stats_close"] = torch.allclose(*gathered, rtol=1e-5, atol=1e-6)
        out["changed"] = not torch.equal(start, rank0 if rank == 0 else rank1)
        results[rank] = out
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize(("config", "overrides"), DDP_MODELS)
def test_syncbn_model_under_two_process_ddp(config, overrides, tmp_path):
    results = mp.Manager().dict()
    args = (str(tmp_path / "init"), config, overrides, results)
    mp.spawn(_rank, args=args, nprocs=2, join=True)
    for rank in (0, 1):
        out = results[rank]
        assert out["sync_bn"] > 0, "the config should use SyncBN"
        assert out["pred_shape"] == (H, W)
        assert out["torch_sync_bn"] == 0  # all converted: torch's refuses CPU tensors
        assert out["differ_before"], "each rank should start from its own weights"
        assert all(torch.isfinite(torch.tensor(out["losses"])))
        assert out["equal_after"], "DDP should keep the replicas identical"
        assert out["stats_close"], "synchronised BN gives every rank the same statistics"
        assert out["changed"]
