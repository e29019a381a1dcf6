import pytest
import torch
from mmengine.structures import PixelData

from vipseg.models import SegDataPreProcessor
from vipseg.structures import SegDataSample


def _sample(h, w, value=1):
    sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
    sample.gt_sem_seg = PixelData(data=torch.full((1, h, w), value))
    return sample


def test_normalizes_converts_bgr_and_pads_to_size():
    pre = SegDataPreProcessor(mean=(10, 20, 30), std=(2, 4, 5), size=(6, 8), pad_val=0)
    img = torch.zeros(3, 4, 5, dtype=torch.uint8)
    img[0], img[1], img[2] = 30, 20, 10  # BGR
    out = pre(dict(inputs=[img], data_samples=[_sample(4, 5)]), training=True)
    x = out["inputs"]
    assert x.shape == (1, 3, 6, 8) and x.dtype == torch.float32
    assert torch.all(x[0, :, :4, :5] == 0)  # (RGB 10,20,30 - mean) / std
    assert torch.all(x[0, :, 4:, :] == 0) and torch.all(x[0, :, :, 5:] == 0)
    gt = out["data_samples"][0].gt_sem_seg.data
    assert gt.shape == (1, 6, 8)
    assert (
        torch.all(gt[:, :4, :5] == 1)
        and torch.all(gt[:, 4:] == 255)
        and torch.all(gt[:, :, 5:] == 255)
    )
    assert out["data_samples"][0].batch_input_shape == (6, 8)


def test_prediction_pads_to_divisor_of_largest_image():
    pre = SegDataPreProcessor(size=(6, 8), size_divisor=4)
    imgs = [torch.full((3, 5, 7), 100, dtype=torch.uint8), torch.zeros(3, 3, 9, dtype=torch.uint8)]
    out = pre(dict(inputs=imgs, data_samples=[_sample(5, 7), _sample(3, 9)]), training=False)
    assert out["inputs"].shape == (2, 3, 8, 12)


def test_training_image_larger_than_size_is_an_error():
    pre = SegDataPreProcessor(size=(4, 4))
    with pytest.raises(ValueError, match="larger than the data_preprocessor size"):
        pre(dict(inputs=[torch.zeros(3, 5, 4, dtype=torch.uint8)], data_samples=None), True)
