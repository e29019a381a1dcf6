"""Python inference API: build a model from a config and segment images with it."""

from collections.abc import Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner import load_checkpoint

from vipseg.datasets.transforms import LoadImageFromFile
from vipseg.models.utils.sync_bn import adapt_sync_bn
from vipseg.registry import DATASETS, MODELS
from vipseg.structures import SegDataSample
from vipseg.utils import load_config, register_all_modules


def init_model(
    config: str | Config,
    checkpoint: str | None = None,
    device: str = "cpu",
    cfg_options: dict | None = None,
) -> torch.nn.Module:
    """Build the config's model in eval mode, with weights from a local ``checkpoint``.

    The model gets ``cfg`` and ``dataset_meta`` (classes, palette) attributes; the meta
    comes from the checkpoint when it has one, else from the config's test dataset class.
    """
    register_all_modules()
    cfg = load_config(config, cfg_options) if isinstance(config, str) else config
    # Inference runs in one process: SyncBN becomes BN, with one warning.
    model = adapt_sync_bn(MODELS.build(cfg.model))
    meta = None
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location="cpu")
        meta = ckpt.get("meta", {}).get("dataset_meta")
    if meta is None:
        dataset_cls = DATASETS.get(cfg.test_dataloader.dataset.type)
        meta = dict(dataset_cls.METAINFO)
    model.cfg, model.dataset_meta = cfg, meta
    return model.to(device).eval()


def _inference_pipeline(cfg: Config) -> Compose:
    # Images are loaded by inference_model itself (paths or arrays), labels not at all.
    skip = {"LoadImageFromFile", "LoadAnnotations"}
    return Compose(
        [step for step in cfg.test_dataloader.dataset.pipeline if step["type"] not in skip]
    )


@torch.no_grad()
def inference_model(
    model: torch.nn.Module, images: str | np.ndarray | Sequence
) -> SegDataSample | list[SegDataSample]:
    """Segment one image or a list; an image is a path or a BGR uint8 array (H, W, 3).

    Returns data samples with ``pred_sem_seg`` and ``seg_logits`` at the image size.
    """
    single = isinstance(images, str | np.ndarray)
    batch = [images] if single else list(images)
    pipeline = _inference_pipeline(model.cfg)
    load = LoadImageFromFile()
    samples = []
    for image in batch:
        if isinstance(image, str):
            results = load(dict(img_path=image))
        else:
            shape = image.shape[:2]
            results = dict(img=image, img_path="", img_shape=shape, ori_shape=shape)
        samples.append(pipeline(results))
    outputs = model.test_step(pseudo_collate(samples))
    return outputs[0] if single else outputs
