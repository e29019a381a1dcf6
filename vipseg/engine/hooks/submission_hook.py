"""Writes test predictions as a Cityscapes / VIPriors MiniCity submission."""

import os
import os.path as osp
import zipfile
from collections.abc import Sequence

import cv2
import numpy as np
from mmengine.dist import barrier, get_rank
from mmengine.hooks import Hook

from vipseg.datasets.cityscapes_labels import PALETTE, train_id_to_label_id_lut
from vipseg.registry import HOOKS
from vipseg.visualization import colorize, overlay


@HOOKS.register_module()
class CityscapesSubmissionHook(Hook):
    """In testing, writes one label-ID PNG per image, named like the image.

    ``<city>_<seq>_<frame>_leftImg8bit.png`` holding Cityscapes label IDs (train IDs mapped
    back) is what the Cityscapes and VIPriors MiniCity servers read. Every process writes its
    own images; with ``zip_name`` rank 0 then packs the label-ID PNGs into one archive.

    Args:
        out_dir: output folder (relative paths are under the work dir).
        color: also write ``color/<name>`` with the Cityscapes palette.
        overlay: also write ``overlay/<name>``: the image blended with the colors.
        zip_name: if set, write ``<out_dir>/<zip_name>`` with the label-ID PNGs.
    """

    priority = "LOW"

    def __init__(
        self,
        out_dir: str,
        color: bool = False,
        overlay: bool = False,
        zip_name: str | None = None,
    ):
        self.out_dir = out_dir
        self.color = color
        self.overlay = overlay
        self.zip_name = zip_name
        self._to_label_id = train_id_to_label_id_lut()
        self._written: list[str] = []

    def _folder(self, runner, sub: str = "") -> str:
        folder = osp.join(runner.work_dir, self.out_dir, sub)
        os.makedirs(folder, exist_ok=True)
        return folder

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict, outputs: Sequence) -> None:
        for sample in outputs:
            pred = sample.pred_sem_seg.data.squeeze(0).cpu().numpy().astype(np.uint8)
            name = osp.basename(sample.img_path)
            if not name.endswith(".png"):
                name = osp.splitext(name)[0] + ".png"
            path = osp.join(self._folder(runner), name)
            if not cv2.imwrite(path, self._to_label_id[pred]):
                raise OSError(f"could not write {path}")
            self._written.append(path)
            if self.color or self.overlay:
                colors = colorize(pred, PALETTE)
            if self.color:
                cv2.imwrite(osp.join(self._folder(runner, "color"), name), colors[..., ::-1])
            if self.overlay:
                image = cv2.imread(sample.img_path)[..., ::-1]
                blended = overlay(image, colors)
                cv2.imwrite(osp.join(self._folder(runner, "overlay"), name), blended[..., ::-1])

    def after_test_epoch(self, runner, metrics: dict | None = None) -> None:
        folder = self._folder(runner)
        runner.logger.info(f"wrote {len(self._written)} label-ID predictions to {folder}")
        self._written = []
        if not self.zip_name:
            return
        barrier()  # every rank's files are on disk before rank 0 packs them
        if get_rank() == 0:
            archive = osp.join(folder, self.zip_name)
            names = sorted(n for n in os.listdir(folder) if n.endswith(".png"))
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                for name in names:
                    zf.write(osp.join(folder, name), arcname=name)
            runner.logger.info(f"packed {len(names)} predictions into {archive}")
