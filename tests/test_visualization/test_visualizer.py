"""Colour label maps and image | ground truth | prediction | overlay panels."""

import numpy as np
import torch
from mmengine.structures import PixelData

from vipseg.structures import SegDataSample
from vipseg.visualization import SegLocalVisualizer, colorize

PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def test_colorize_uses_the_palette_and_black_for_ignore():
    label = np.array([[0, 1], [2, 255]])
    color = colorize(label, PALETTE)
    assert color.dtype == np.uint8 and color.shape == (2, 2, 3)
    assert color[0, 0].tolist() == [255, 0, 0] and color[1, 0].tolist() == [0, 0, 255]
    assert color[1, 1].tolist() == [0, 0, 0]


def test_panel_puts_image_ground_truth_and_prediction_side_by_side():
    vis = SegLocalVisualizer(name="vipseg-test-panel", alpha=1.0)
    vis.dataset_meta = dict(palette=PALETTE)
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 4, 5, dtype=torch.long))
    sample.pred_sem_seg = PixelData(data=torch.full((1, 4, 5), 2, dtype=torch.long))
    image = np.full((4, 5, 3), 7, np.uint8)
    panel = vis.panel(image, sample)
    assert panel.shape == (4, 20, 3)
    assert (panel[:, :5] == 7).all()
    assert (panel[:, 5:10] == PALETTE[0]).all() and (panel[:, 10:15] == PALETTE[2]).all()
    assert (panel[:, 15:] == PALETTE[2]).all()  # alpha 1: the overlay is the prediction
    only_pred = vis.panel(image, sample, draw_gt=False)
    assert only_pred.shape == (4, 15, 3)
    assert vis.panel(image, sample, draw_gt=False, draw_pred=False) is image
