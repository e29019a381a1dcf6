"""The base of vipseg's datasets: find image/label pairs by suffix under a data root, or take
the images a split file lists; optionally skip samples whose files are bad."""

import logging
import os.path as osp
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from vipseg.registry import DATASETS
from vipseg.utils.errors import ConfigError, DataError, InputError, MissingDataError, last_line


@DATASETS.register_module()
class BaseSegDataset(BaseDataset):
    """Pairs every ``*{img_suffix}`` file under ``data_root/data_prefix['img_path']`` (searched
    recursively, sorted) with the file of the same relative stem and ``seg_map_suffix`` under
    ``data_prefix['seg_map_path']``.

    With ``ann_file`` (a split file, as in MMSegmentation) only the images it lists are used, in
    its order: one stem per line, relative to ``data_prefix['img_path']`` and without
    ``img_suffix`` (e.g. ``train/0001TP_006690``); blank lines and ``#`` comments are skipped.
    ``tools/analysis_tools/make_folds.py`` writes such files for K-fold cross-validation.

    Subclasses set ``METAINFO`` (``classes``, ``palette``), default suffixes, and optionally
    :meth:`label_map` (a lookup table from stored label values to class indices, applied on
    the fly by ``LoadAnnotations``). Every item carries ``num_classes``, ``ignore_index`` and
    ``label_map`` so ``LoadAnnotations`` can check label values.

    Args:
        data_root: folder the prefixes (and a relative ``ann_file``) are relative to.
        data_prefix: ``img_path`` and, for labelled splits, ``seg_map_path``; leave
            ``seg_map_path`` out for an unlabelled split. Instance maps are looked up in
            ``instance_map_path``, by default the ``seg_map_path`` folder.
        img_suffix, seg_map_suffix, instance_suffix: file name endings.
        ann_file: split file listing the images to use; None: all images under ``img_path``.
        pipeline: transform configs.
        test_mode: no re-fetching of failed samples.
        skip_bad_samples: instead of raising, log a warning naming a bad sample and its reason
            and use the next good one (index order, so runs stay reproducible): a
            ``DataError``/``MissingDataError`` while loading, or a missing image or label file
            at construction (then dropped). Duplicates still raise: they are a split mistake,
            not a damaged file. ``bad_samples`` (image path -> reason) and ``skipped`` count
            them per process: each DataLoader worker keeps its own. If no sample loads,
            ``DataError``. Training only: substituting samples would skew metrics, so with
            ``test_mode`` it is a ``ConfigError``.
        ignore_index: label value excluded from losses and metrics.
        metainfo: overrides of ``METAINFO`` (e.g. ``classes``).
        indices, serialize_data, lazy_init, max_refetch: as in mmengine's BaseDataset.
    """

    METAINFO: dict = dict(classes=(), palette=())

    def __init__(
        self,
        data_root: str,
        data_prefix: dict,
        img_suffix: str = ".jpg",
        seg_map_suffix: str = ".png",
        instance_suffix: str | None = None,
        ann_file: str | None = None,
        pipeline: Sequence[dict] = (),
        test_mode: bool = False,
        ignore_index: int = 255,
        metainfo: dict | None = None,
        indices: int | Sequence[int] | None = None,
        serialize_data: bool = True,
        lazy_init: bool = False,
        max_refetch: int = 1000,
        skip_bad_samples: bool = False,
    ):
        unknown = set(data_prefix) - {"img_path", "seg_map_path", "instance_map_path"}
        if unknown or "img_path" not in data_prefix:
            raise ConfigError(
                f"data_prefix needs 'img_path' and may have 'seg_map_path', "
                f"'instance_map_path'; got keys {sorted(data_prefix)}"
            )
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.instance_suffix = instance_suffix
        self.ignore_index = ignore_index
        if skip_bad_samples and test_mode:
            raise ConfigError(
                f"{type(self).__name__}: skip_bad_samples=True with test_mode=True would "
                "evaluate a substitute sample twice; use it for training datasets only"
            )
        self.skip_bad_samples = bool(skip_bad_samples)
        self.bad_samples: dict[str, str] = {}  # set before super() loads the data list
        self._bad_indices: set[int] = set()
        super().__init__(
            ann_file=ann_file or "",  # mmengine joins a relative one to data_root
            data_root=data_root,
            data_prefix=dict(data_prefix),
            metainfo=metainfo,
            pipeline=list(pipeline),
            test_mode=test_mode,
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init,
            max_refetch=max_refetch,
        )
        self._item_info = dict(
            label_map=self.label_map(),
            ignore_index=ignore_index,
            num_classes=len(self.metainfo["classes"]),
            seg_fields=[],
        )

    def label_map(self) -> np.ndarray | None:
        """Lookup table from stored label values to class indices; None for identity."""
        return None

    def _join_prefix(self) -> None:
        # mmengine joins data_prefix to data_root; a missing root is reported here, once.
        if not self.data_root or not osp.isdir(self.data_root):
            raise MissingDataError(self._missing_root_message())
        super()._join_prefix()

    def _missing_root_message(self) -> str:
        return f"{type(self).__name__}: data_root {self.data_root!r} does not exist"

    @property
    def skipped(self) -> int:
        """How many bad samples this process has skipped (or dropped at construction)."""
        return len(self.bad_samples)

    def load_data_list(self) -> list[dict]:
        name, img_dir = type(self).__name__, Path(self.data_prefix["img_path"])
        if not img_dir.is_dir():
            raise MissingDataError(f"{name}: image folder {img_dir} does not exist")
        if self.ann_file:
            images = self._listed_images(img_dir)
        else:
            images = sorted(img_dir.rglob(f"*{self.img_suffix}"))
            if not images:
                raise MissingDataError(
                    f"{name}: no '*{self.img_suffix}' images in {img_dir} (empty split?)"
                )
        data_list = [info for info in map(self._pair_or_skip, images) if info is not None]
        if not data_list:
            raise MissingDataError(f"{name}: all {self.skipped} samples in {img_dir} are bad")
        _check_unique(data_list, name)
        return data_list

    def _listed_images(self, img_dir: Path) -> list[Path]:
        """The images named by the split file ``self.ann_file``, in its order."""
        name, ann_file = type(self).__name__, Path(self.ann_file)
        if not ann_file.is_file():
            raise MissingDataError(f"{name}: ann_file {ann_file} does not exist")
        images, first_line = [], {}
        for number, line in enumerate(ann_file.read_text().splitlines(), start=1):
            stem = line.strip()
            if not stem or stem.startswith("#"):
                continue
            if stem in first_line:
                raise DataError(
                    f"{name}: ann_file {ann_file} line {number} repeats {stem!r} "
                    f"(first on line {first_line[stem]})"
                )
            first_line[stem] = number
            # An absolute stem would escape img_path and break the image/label pairing.
            if Path(stem).is_absolute():
                raise DataError(
                    f"{name}: ann_file {ann_file} line {number}: stem {stem!r} must be "
                    f"relative to {img_dir}"
                )
            img = img_dir / f"{stem}{self.img_suffix}"
            if img.is_file():
                images.append(img)
                continue
            error = MissingDataError(
                f"{name}: ann_file {ann_file} line {number}: image {img} does not exist"
            )
            self._skip_or_raise(str(img), error)
        if not first_line:
            raise MissingDataError(f"{name}: ann_file {ann_file} lists no images")
        return images

    def _pair_or_skip(self, img: Path) -> dict | None:
        try:
            return self._pair(img)
        except MissingDataError as error:
            self._skip_or_raise(str(img), error)
            return None

    def _pair(self, img: Path) -> dict:
        rel = img.relative_to(self.data_prefix["img_path"])
        stem = str(rel)[: -len(self.img_suffix)]
        info = dict(img_path=str(img))
        seg_dir = self.data_prefix.get("seg_map_path")
        # Instance maps sit beside the label maps (Cityscapes gtFine) unless placed elsewhere.
        instance_dir = self.data_prefix.get("instance_map_path") or seg_dir
        for key, folder, suffix, arg in (
            ("seg_map_path", seg_dir, self.seg_map_suffix, "seg_map_suffix"),
            ("instance_map_path", instance_dir, self.instance_suffix, "instance_suffix"),
        ):
            if folder and suffix:
                path = Path(folder) / f"{stem}{suffix}"
                if not path.is_file():
                    raise MissingDataError(
                        f"{type(self).__name__}: image {img} has no label file {path} "
                        f"(set {arg}=None if the dataset has none)"
                    )
                info[key] = str(path)
        return info

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.update(self._item_info, seg_fields=[])
        return info

    def __getitem__(self, idx: int) -> dict:
        if not self.skip_bad_samples:
            return super().__getitem__(idx)
        self.full_init()
        # Walk forward from idx, once around at most: deterministic (mmengine's refetch is
        # random), and a sample found bad in this process is passed over without a re-read.
        for step in range(len(self)):
            current = (idx + step) % len(self)
            if current in self._bad_indices:
                continue
            try:
                data = self.prepare_data(current)
            except (DataError, MissingDataError) as error:  # a ConfigError is no bad file
                self._bad_indices.add(current)
                self._skip_or_raise(self.get_data_info(current)["img_path"], error)
                continue
            if data is not None:  # None: the pipeline rejected it, as in mmengine
                return data
        example = "".join(f"; e.g. {why}" for why in list(self.bad_samples.values())[:1])
        raise DataError(
            f"{type(self).__name__}: none of the {len(self)} samples loads with "
            f"skip_bad_samples=True ({self.skipped} bad{example})"
        )

    def _skip_or_raise(self, img_path: str, error: InputError) -> None:
        """With ``skip_bad_samples``, log and count a bad sample; otherwise raise its error."""
        if not self.skip_bad_samples:
            raise error
        reason = last_line(error)
        self.bad_samples.setdefault(img_path, reason)
        print_log(
            f"{type(self).__name__}: skipping bad sample {img_path}: {reason} "
            f"({self.skipped} skipped in this process)",
            logger="current",
            level=logging.WARNING,
        )


def _check_unique(data_list: list[dict], name: str) -> None:
    """Two samples that are one image file, or share one label file, are an error naming both
    (an ``ann_file`` can reach a file twice through ``..`` or a symlinked folder)."""
    real_dirs: dict[str, str] = {}  # realpath per folder, not per file: few syscalls
    for key, what in (("img_path", "image"), ("seg_map_path", "label file")):
        first_of: dict[str, dict] = {}
        for info in data_list:
            if key not in info:
                continue
            folder, file = osp.split(info[key])
            if folder not in real_dirs:
                real_dirs[folder] = osp.realpath(folder)
            real = osp.join(real_dirs[folder], file)
            first = first_of.setdefault(real, info)
            if first is not info:
                raise DataError(
                    f"{name}: duplicate sample: images {first['img_path']} and "
                    f"{info['img_path']} are both the {what} {real}; list each sample once"
                )
