"""IoUMetric under real DDP: two gloo processes give the single-process result."""

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from vipseg.evaluation import IoUMetric

CLASSES = ("a", "b", "c")
# Three images; the distributed sampler gives rank 0 positions 0, 2 and rank 1 positions 1, 3,
# where position 3 is a padding copy of image 0.
PREDS = [[[0, 0], [1, 2]], [[1, 1], [1, 0]], [[2, 2], [0, 0]]]
LABELS = [[[0, 1], [1, 2]], [[1, 1], [0, 0]], [[2, 2], [2, 0]]]


def _sample(i: int) -> dict:
    return dict(
        pred_sem_seg=dict(data=torch.tensor(PREDS[i])[None]),
        gt_sem_seg=dict(data=torch.tensor(LABELS[i])[None]),
    )


def _rank(rank: int, init_file: str, results) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    metric = IoUMetric(class_names=CLASSES)
    for position in (rank, rank + 2):
        metric.process({}, [_sample(position % 3)])
    results[rank] = metric.evaluate(size=3)
    dist.destroy_process_group()


def test_two_processes_match_one(tmp_path):
    single = IoUMetric(class_names=CLASSES)
    for i in range(3):
        single.process({}, [_sample(i)])
    expected = single.evaluate(size=3)

    results = mp.Manager().dict()
    mp.spawn(_rank, args=(str(tmp_path / "init"), results), nprocs=2, join=True)
    for rank in (0, 1):
        assert results[rank].keys() == expected.keys()
        np.testing.assert_allclose(
            [results[rank][k] for k in expected], list(expected.values()), equal_nan=True
        )
