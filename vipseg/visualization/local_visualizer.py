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

    Scalars and panels go to every backend: ``vis_backends`` plus those switched on by
    ``tensorboard`` and ``wandb``, the one-line switches of ``default_runtime.py``
    (``--cfg-options visualizer.tensorboard=True``).

    Args:
        name: instance name (mmengine visualizers are per-name singletons).
        vis_backends: backend configs, e.g. ``[dict(type='LocalVisBackend')]``.
        save_dir: where the backends write (the Runner passes ``<work_dir>/<time>``).
        alpha: opacity of the color labels in overlays.
        tensorboard: add a ``TensorboardVisBackend`` (needs ``pip install tensorboard``).
        wandb: add a :class:`SegWandbVisBackend` (needs ``pip install wandb``; offline
            unless ``WANDB_MODE`` or ``wandb_init_kwargs['mode']`` says otherwise).
        wandb_init_kwargs: ``wandb.init`` arguments, e.g. ``dict(project='minicity')``.
    """

    def __init__(
        self,
        name: str = "visualizer",
        vis_backends: list[dict] | None = None,
        save_dir: str | None = None,
        alpha: float = 0.5,
        tensorboard: bool = False,
        wandb: bool = False,
        wandb_init_kwargs: dict | None = None,
    ):
        backends = [dict(b) for b in vis_backends or []]
        types = {b["type"] for b in backends}
        if tensorboard and "TensorboardVisBackend" not in types:
            backends.append(dict(type="TensorboardVisBackend"))
        if wandb and not types & {"SegWandbVisBackend", "WandbVisBackend"}:
            backends.append(dict(type="SegWandbVisBackend", init_kwargs=wandb_init_kwargs))
        super().__init__(name=name, vis_backends=backends or None, save_dir=save_dir)
        self.alpha = alpha

    def _palette(self) -> Sequence[Sequence[int]]:
        meta = self.dataset_meta or {}
        if "palette" not in meta:
            raise ValueError("SegLocalVisualizer needs dataset_meta with a 'palette'")
        return meta["palette"]

    def panel(
        self, image: np.ndarray, data_sample, draw_gt: bool = True, draw_pred: bool = True
    ) -> np.ndarray:
        """``image`` (RGB) | color ground truth | color prediction | prediction overlay.

        Side by side; a part the sample lacks or that is switched off is left out, and the
        overlay shows the ground truth when there is no prediction.
        """
        palette = self._palette()
        colors = []
        for field, wanted in (("gt_sem_seg", draw_gt), ("pred_sem_seg", draw_pred)):
            if wanted and field in data_sample:
                label = getattr(data_sample, field).data.squeeze(0).cpu().numpy()
                colors.append(colorize(label, palette))
        if not colors:
            return image
        return np.concatenate([image, *colors, overlay(image, colors[-1], self.alpha)], axis=1)

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
