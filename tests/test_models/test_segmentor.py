import pytest
import torch
from mmengine.structures import PixelData

from vipseg.registry import MODELS
from vipseg.structures import SegDataSample

NUM_CLASSES = 5


def _model(**test_cfg):
    cfg = dict(
        type="EncoderDecoder",
        backbone=dict(type="ResNet", depth=18, base_channels=8, stem_channels=8),
        decode_head=dict(type="ASPPHead", in_channels=64, channels=8, num_classes=NUM_CLASSES),
        auxiliary_head=dict(
            type="FCNHead", in_channels=32, channels=8, num_classes=NUM_CLASSES, in_index=2
        ),
    )
    if test_cfg:
        cfg["test_cfg"] = test_cfg
    return MODELS.build(cfg).eval()


def _samples(n, h, w, **meta):
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), **meta))
        s.gt_sem_seg = PixelData(data=torch.randint(0, NUM_CLASSES, (1, h, w)))
        samples.append(s)
    return samples


def test_loss_has_decode_and_aux_terms():
    model = _model().train()
    losses = model(torch.randn(2, 3, 32, 32), _samples(2, 32, 32), mode="loss")
    assert set(losses) == {"decode.loss_ce", "decode.acc_seg", "aux.loss_ce", "aux.acc_seg"}
    total = losses["decode.loss_ce"] + losses["aux.loss_ce"]
    total.backward()
    assert model.backbone.stem[0].weight.grad is not None


def test_predict_resizes_to_original_shape_and_removes_padding():
    model = _model()
    # The 24x20 image was padded to 32x32 and had originally been 48x40 before a resize.
    samples = _samples(1, 24, 20)
    samples[0].set_metainfo(dict(ori_shape=(48, 40)))
    torch.manual_seed(0)
    inputs = torch.randn(1, 3, 32, 32)
    out = model(inputs, samples, mode="predict")[0]
    assert out.seg_logits.shape == (48, 40) and out.pred_sem_seg.shape == (48, 40)
    full = model.encode_decode(inputs)[:, :, :24, :20]
    expected = torch.nn.functional.interpolate(full, size=(48, 40), mode="bilinear")
    assert torch.allclose(out.seg_logits.data, expected[0], atol=1e-5)
    assert torch.equal(out.pred_sem_seg.data[0], expected[0].argmax(0))


def test_predict_undoes_horizontal_flip():
    model = _model()
    inputs = torch.randn(1, 3, 32, 32)
    plain = model(inputs, _samples(1, 32, 32), mode="predict")[0].seg_logits.data
    flipped_sample = _samples(1, 32, 32, flip=True, flip_direction="horizontal")
    flipped = model(inputs, flipped_sample, mode="predict")[0].seg_logits.data
    assert torch.allclose(flipped, plain.flip(-1))


def test_slide_inference_with_one_window_equals_whole():
    whole, slide = _model(), _model(mode="slide", crop_size=(32, 32), stride=(16, 16))
    slide.load_state_dict(whole.state_dict())
    inputs = torch.randn(1, 3, 32, 32)
    assert torch.allclose(whole.inference(inputs), slide.inference(inputs), atol=1e-6)


def test_slide_inference_covers_every_pixel_and_averages():
    model = _model(mode="slide", crop_size=(16, 16), stride=(12, 12))
    assert model._window_starts(40, 16, 12) == [0, 12, 24]
    seen = []
    model.encode_decode = lambda x: (
        seen.append(x.shape[-2:]) or torch.ones(x.shape[0], NUM_CLASSES, *x.shape[-2:])
    )
    logits = model.inference(torch.randn(1, 3, 40, 30))
    assert torch.allclose(logits, torch.ones_like(logits))  # overlaps averaged, not summed
    assert model._window_starts(30, 16, 12) == [0, 12, 14]
    assert len(seen) == 3 * 3


def test_tensor_mode_and_bad_mode():
    model = _model()
    assert model(torch.randn(1, 3, 32, 32)).shape == (1, NUM_CLASSES, 4, 4)
    with pytest.raises(ValueError, match="forward mode"):
        model(torch.randn(1, 3, 32, 32), mode="train")


def test_bad_test_cfg_names_the_key():
    with pytest.raises(ValueError, match="missing keys \\['crop_size', 'stride'\\]"):
        _model(mode="slide")
