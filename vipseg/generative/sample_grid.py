"""Sample grids written during GAN training: what the generator makes of fixed label maps."""

import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from vipseg.visualization import colorize

from .data import SeededSamples, stack_batch


def to_uint8_rgb(images: torch.Tensor) -> np.ndarray:
    """``(N, 3, H, W)`` in [-1, 1] -> ``(N, H, W, 3)`` uint8 RGB."""
    pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).cpu().numpy()


class SampleGrid:
    """Rows of label colours | real image | renderings, for ``num`` fixed training crops
    spread evenly over the split.

    The crops (their augmentation seeded) and the noise vectors are drawn once, so grids from
    successive iterations show the same inputs and differ only by the generator. With noise
    (``z_dim > 0``) each label map is rendered twice, with two noise vectors.
    """

    def __init__(self, dataset, num: int, generator, seed: int, device: torch.device):
        self.palette = dataset.metainfo["palette"]
        num = min(num, len(dataset))
        samples = SeededSamples(dataset)
        # Spread over the split: neighbouring indices are often frames of one sequence.
        picks = np.linspace(0, len(dataset) - 1, num).round().astype(int)
        batch = pseudo_collate([samples[(int(i), seed + int(i))] for i in picks])
        self.images, self.labels, self.instances = stack_batch(
            batch, device, generator.instance_edges
        )
        renders = 2 if generator.z_dim else 1
        noise = torch.Generator().manual_seed(seed)
        self.z = [
            torch.randn(num, generator.z_dim, generator=noise).to(device)
            if generator.z_dim
            else None
            for _ in range(renders)
        ]

    def draw(self, trainer) -> np.ndarray:
        """The grid as ``(rows * H, (2 + renders) * W, 3)`` uint8 RGB."""
        seg = trainer.encode(self.labels, self.instances)
        labels = self.labels.cpu().numpy()
        columns = [
            np.stack([colorize(label, self.palette) for label in labels]),
            to_uint8_rgb(self.images),
        ]
        columns += [to_uint8_rgb(trainer.render(seg, z)) for z in self.z]
        rows = [
            np.concatenate([column[i] for column in columns], axis=1) for i in range(len(labels))
        ]
        return np.concatenate(rows, axis=0)

    def write(self, trainer, path: str) -> None:
        os.makedirs(osp.dirname(path), exist_ok=True)
        if not cv2.imwrite(path, cv2.cvtColor(self.draw(trainer), cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write the sample grid {path}")
