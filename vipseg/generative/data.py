"""Reproducible, resumable data for the GAN training loop.

Every sample position ``p`` of the run (iteration ``i`` holds positions ``i*B .. i*B+B-1``)
fixes both which image is read (a per-epoch permutation) and the seed of its random
augmentation, whatever the number of workers. A run resumed at iteration ``i`` therefore sees
exactly the batches the uninterrupted run saw from ``i`` on.
"""

import random
from collections.abc import Iterator

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, Dataset, Sampler

from vipseg.utils.errors import ConfigError


def _mix(*values: int) -> int:
    """A 31-bit seed from integers (numpy's SeedSequence hashes them well)."""
    return int(np.random.SeedSequence(list(values)).generate_state(1)[0] >> 1)


class SeededSampler(Sampler):
    """Infinite ``(index, seed)`` pairs from sample position ``start`` on: each epoch is a
    permutation drawn from ``(seed, epoch)``, each sample's augmentation seed from
    ``(seed, position)``."""

    def __init__(self, length: int, seed: int, start: int = 0):
        if length < 1:
            raise ConfigError("the GAN training dataset is empty")
        self.length, self.seed, self.start = length, int(seed), int(start)

    def _permutation(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(_mix(self.seed, epoch))
        return torch.randperm(self.length, generator=generator)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        position = self.start
        epoch, order = position // self.length, self._permutation(position // self.length)
        while True:
            if position // self.length != epoch:
                epoch = position // self.length
                order = self._permutation(epoch)
            yield int(order[position % self.length]), _mix(self.seed, 1 << 20, position)
            position += 1


class SeededSamples(Dataset):
    """``dataset[index]`` with numpy's and Python's global RNGs (which vipseg's transforms
    draw from) seeded by the sampler's per-sample seed, then restored."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, seed = key
        np_state, py_state = np.random.get_state(), random.getstate()
        np.random.seed(seed)
        random.seed(seed)
        try:
            return self.dataset[index]
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def build_loader(dataset, loader_cfg: dict, seed: int, start_iteration: int) -> DataLoader:
    """The training loader from a config's ``train_dataloader`` (its ``batch_size``,
    ``num_workers``, ``persistent_workers``, ``pin_memory``; the sampler is always
    :class:`SeededSampler`), positioned at ``start_iteration``."""
    batch_size = int(loader_cfg.get("batch_size", 1))
    workers = int(loader_cfg.get("num_workers", 0))
    sampler = SeededSampler(len(dataset), seed, start=start_iteration * batch_size)
    return DataLoader(
        SeededSamples(dataset),
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        persistent_workers=bool(loader_cfg.get("persistent_workers", False)) and workers > 0,
        pin_memory=bool(loader_cfg.get("pin_memory", False)),
        collate_fn=pseudo_collate,
        # Its own generator: the loader draws a worker base seed from it at every iterator
        # start, which on the global generator would shift the noise stream after a resume.
        generator=torch.Generator().manual_seed(seed),
    )


def stack_batch(batch: dict, device: torch.device, with_instances: bool):
    """``(images in [-1, 1] RGB, labels, instances or None)`` from a packed batch.

    ``PackSegInputs`` gives BGR uint8 images (OpenCV's order); the generator works in RGB.
    """
    inputs, samples = batch["inputs"], batch["data_samples"]
    shapes = {tuple(x.shape) for x in inputs}
    if len(shapes) != 1:
        raise ConfigError(
            f"GAN training needs one image size per batch, got {sorted(shapes)}: end the "
            "train pipeline with a RandomCrop (and Pad) to one size"
        )
    images = torch.stack(inputs).to(device, non_blocking=True)
    images = images[:, [2, 1, 0]].float() / 127.5 - 1.0
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples]).to(device, non_blocking=True)
    instances = None
    if with_instances:
        if "gt_instance_map" not in samples[0]:
            raise ConfigError(
                "the generator has instance_edges=True but the train pipeline loads no "
                "instance maps: use LoadAnnotations(with_instance=True)"
            )
        instances = torch.stack([s.gt_instance_map.data[0] for s in samples]).to(device)
    return images, labels.long(), instances
