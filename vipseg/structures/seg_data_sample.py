"""The data sample that travels with each image from the pipeline to the metric."""

from mmengine.structures import BaseDataElement, PixelData


class SegDataSample(BaseDataElement):
    """Annotations and predictions of one image.

    Fields (each a :class:`~mmengine.structures.PixelData` whose ``data`` is ``(C, H, W)``):

    - ``gt_sem_seg``: ground-truth train IDs, ``(1, H, W)`` int64, 255 = ignore.
    - ``gt_instance_map``: optional Cityscapes instance IDs, ``(1, H, W)`` int64.
    - ``seg_logits``: predicted logits at the original image size, ``(K, H, W)``.
    - ``pred_sem_seg``: predicted train IDs at the original image size, ``(1, H, W)`` int64.

    The metainfo holds ``img_path``, ``seg_map_path``, ``ori_shape``, ``img_shape``,
    ``pad_shape``, ``scale_factor``, ``flip``, ``flip_direction`` where known.
    """

    def _pixel_property(name: str):  # noqa: N805 - a factory used in the class body only
        def getter(self) -> PixelData:
            return getattr(self, f"_{name}")

        def setter(self, value: PixelData) -> None:
            self.set_field(value, f"_{name}", dtype=PixelData)

        def deleter(self) -> None:
            delattr(self, f"_{name}")

        return property(getter, setter, deleter)

    gt_sem_seg = _pixel_property("gt_sem_seg")
    gt_instance_map = _pixel_property("gt_instance_map")
    seg_logits = _pixel_property("seg_logits")
    pred_sem_seg = _pixel_property("pred_sem_seg")
    del _pixel_property
