"""Per-image class pixel counts of a labelled split: the statistics behind class weights,
rare-class sampling, stratified folds and the dataset report.

Label maps are read and mapped to class indices exactly as ``LoadAnnotations`` does, so a bad
file fails here with the same one-line error naming it.
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
from mmengine.config import Config

from vipseg.registry import DATASETS
from vipseg.utils.config import set_data_root
from vipseg.utils.errors import ConfigError, MissingDataError

from .transforms.loading import LoadAnnotations

SPLITS = ("train", "val", "test")


def _count_one(args: tuple[dict, int]) -> np.ndarray:
    info, num_classes = args
    path = info["seg_map_path"]
    raw = LoadAnnotations._read_2d(path)
    ids = LoadAnnotations._to_train_ids(raw, info, path)
    counts = np.bincount(ids.ravel(), minlength=256)
    return counts[:num_classes].astype(np.int64)


def class_pixel_counts(dataset, workers: int = 0) -> np.ndarray:
    """``(num_images, num_classes)`` int64 pixel counts per image and class, in dataset order.

    Pixels equal to ``ignore_index`` are not counted; a class absent from an image counts 0.

    Args:
        dataset: a ``BaseSegDataset`` (its pipeline is not used).
        workers: processes that decode label maps in parallel (0: this process).
    """
    num_classes = len(dataset.metainfo["classes"])
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    missing = [info["img_path"] for info in infos if "seg_map_path" not in info]
    if missing:
        raise MissingDataError(
            f"{type(dataset).__name__}: {len(missing)} images have no label map "
            f"(e.g. {missing[0]}); class statistics need a labelled split"
        )
    jobs = [(info, num_classes) for info in infos]
    if workers > 0 and len(jobs) > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_count_one, jobs, chunksize=8))
    else:
        rows = [_count_one(job) for job in jobs]
    if not rows:
        return np.zeros((0, num_classes), np.int64)
    return np.stack(rows)


def build_split_dataset(cfg: Config, split: str = "train", data_root: str | None = None):
    """The dataset of ``{split}_dataloader`` in ``cfg``, without its pipeline.

    A dataset wrapper (e.g. ``RareClassSampling``) is unwrapped to the dataset it samples from.
    """
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
    key = f"{split}_dataloader"
    if cfg.get(key) is None or "dataset" not in cfg[key]:
        raise ConfigError(f"the config has no {key}.dataset")
    if data_root:
        set_data_root(cfg, data_root)
    dataset_cfg = cfg[key]["dataset"].copy()
    while "dataset" in dataset_cfg:
        dataset_cfg = dataset_cfg["dataset"].copy()
    dataset_cfg["pipeline"] = []
    return DATASETS.build(dataset_cfg)
