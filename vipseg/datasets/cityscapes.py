"""Cityscapes and its MiniCity subset, read in the official layout."""

from collections.abc import Sequence

import numpy as np

from vipseg.registry import DATASETS

from .basesegdataset import BaseSegDataset
from .cityscapes_labels import CLASSES, PALETTE, label_id_to_train_id_lut


@DATASETS.register_module()
class CityscapesDataset(BaseSegDataset):
    """``leftImg8bit/{split}/{city}/*_leftImg8bit.png`` with
    ``gtFine/{split}/{city}/*_gtFine_labelIds.png`` (and ``*_gtFine_instanceIds.png``).

    The 34 label IDs are mapped to the 19 train IDs (others to 255) while loading, so the
    official files are used as they are. MiniCity (``data/minicity``) has the same layout.
    """

    METAINFO = dict(classes=CLASSES, palette=PALETTE)

    def __init__(
        self,
        data_prefix: dict,
        data_root: str = "data/minicity",
        img_suffix: str = "_leftImg8bit.png",
        seg_map_suffix: str = "_gtFine_labelIds.png",
        instance_suffix: str | None = "_gtFine_instanceIds.png",
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
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            instance_suffix=instance_suffix,
            ann_file=ann_file,
            pipeline=pipeline,
            test_mode=test_mode,
            ignore_index=ignore_index,
            metainfo=metainfo,
            indices=indices,
            serialize_data=serialize_data,
            lazy_init=lazy_init,
            max_refetch=max_refetch,
            skip_bad_samples=skip_bad_samples,
        )

    def label_map(self) -> np.ndarray:
        return label_id_to_train_id_lut()

    def _missing_root_message(self) -> str:
        return (
            f"CityscapesDataset: data_root {self.data_root!r} does not exist. Put MiniCity "
            f"or Cityscapes there (leftImg8bit/ and gtFine/), point "
            f"--data-root at it, or generate the synthetic toy city in that "
            f"layout: python tools/misc/make_toycity.py --out {self.data_root}"
        )
