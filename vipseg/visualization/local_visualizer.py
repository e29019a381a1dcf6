"""Colorizes label maps and draws image | ground truth | prediction panels."""

from collections.abc import Sequence

import numpy as np
from mmengine.visualization import Visualizer

from vipseg.registry import VISUALIZERS


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """``(H, W)`` class indices -> ``(H, W, 3)`` uint8 RGB; values outside the palette black."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[: len(palette)] = np.asarray(palette, dtype=np.uint8)
    return lut[label.astype(np.uint8)]


def overlay(image: np.ndarray, color: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend an RGB image with a color label map."""
    return (image * (1 - alpha) + color * alpha).astype(np.uint8)


@VISUALIZERS.register_module()
class SegLocalVisualizer(Visualizer):
    """A Visualizer whose :meth:`add_datasample` draws a segmentation result.

    Args:
        name: instance name (mmengine visualizers are per-name singletons).
        vis_backends: backend configs, e.g. ``[dict(type='LocalVisBackend')]``.
        save_dir: where the backends write.
        alpha: opacity of the color labels in overlays.
    """

    def __init__(
        self,
        name: str = "visualizer",
        vis_backends: list[dict] | None = None,
        save_dir: str | None = None,
        alpha: float = 0.5,
    ):
        super().__init__(name=name, vis_backends=vis_backends, save_dir=save_dir)
        self.alpha = alpha

    def _palette(self) -> Sequence[Sequence[int]]:
        meta = self.dataset_meta or {}
        if "palette" not in meta:
            raise ValueError("SegLocalVisualizer needs dataset_meta with a 'palette'")
        return meta["palette"]

    def panel(
        self, image: np.ndarray, data_sample, draw_gt: bool = True, draw_pred: bool = True
    ) -> np.ndarray:
        """RGB image beside the overlaid ground truth and/or prediction, side by side."""
        palette = self._palette()
        panels = [image]
        for field, wanted in (("gt_sem_seg", draw_gt), ("pred_sem_seg", draw_pred)):
            if wanted and field in data_sample:
                label = getattr(data_sample, field).data.squeeze(0).cpu().numpy()
                panels.append(overlay(image, colorize(label, palette), self.alpha))
        return np.concatenate(panels, axis=1)

    def add_datasample(
        self,
        name: str,
        image: np.ndarray,
        data_sample=None,
        draw_gt: bool = True,
        draw_pred: bool = True,
        show: bool = False,
        wait_time: float = 0,
        out_file: str | None = None,
        step: int = 0,
    ) -> None:
        """Draw the panel of ``image`` (RGB) and send it to the backends (or ``out_file``)."""
        drawn = self.panel(image, data_sample, draw_gt, draw_pred) if data_sample else image
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import mmcv

            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
