"""Writes predictions during validation and testing."""

import os
import os.path as osp
from collections.abc import Sequence

import cv2
import mmcv
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from vipseg.registry import HOOKS
from vipseg.visualization import colorize


@HOOKS.register_module()
class SegVisualizationHook(Hook):
    """Draws validation panels to the visualizer's backends and saves test predictions.

    A panel is image | ground truth | prediction | overlay
    (:meth:`SegLocalVisualizer.panel`); the local backend writes it to
    ``<work_dir>/<time>/vis_data/vis_image/val_<image name>_<iteration>.png``, TensorBoard and
    W&B (when switched on) log it at the training iteration.

    Args:
        draw: draw validation panels (reading one image per panel from disk).
        interval: draw the first sample of every ``interval``-th validation batch.
        show_dir: in testing, write each prediction as a color PNG named after its image into
            this folder (relative paths are under the work dir).
    """

    priority = "NORMAL"

    def __init__(self, draw: bool = True, interval: int = 50, show_dir: str | None = None):
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.draw = draw
        self.interval = interval
        self.show_dir = show_dir

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict, outputs: Sequence) -> None:
        # Only the main process has backends (and the dataset meta) to draw with.
        if not self.draw or batch_idx % self.interval or not is_main_process():
            return
        sample = outputs[0]
        image = mmcv.imread(sample.img_path, channel_order="rgb")
        name = osp.splitext(osp.basename(sample.img_path))[0]
        runner.visualizer.add_datasample(f"val_{name}", image, sample, step=runner.iter)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict, outputs: Sequence) -> None:
        if not self.show_dir:
            return
        out_dir = osp.join(runner.work_dir, self.show_dir)
        palette = runner.visualizer.dataset_meta["palette"]
        os.makedirs(out_dir, exist_ok=True)
        for sample in outputs:
            pred = sample.pred_sem_seg.data.squeeze(0).cpu().numpy()
            name = osp.splitext(osp.basename(sample.img_path))[0] + ".png"
            cv2.imwrite(osp.join(out_dir, name), colorize(pred, palette)[..., ::-1])
