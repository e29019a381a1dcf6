"""init_model / inference_model, and local checkpoints through init_cfg."""

from pathlib import Path

import cv2
import numpy as np
import torch
from mmengine.logging import MessageHub

from vipseg.apis import inference_model, init_model
from vipseg.datasets.cityscapes_labels import CLASSES
from vipseg.registry import MODELS
from vipseg.utils import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / "configs/deeplabv3_r18_toycity.py")
PALETTE = [[i, 0, 0] for i in range(19)]  # differs from the config's, to see which is used


def _checkpoint(tmp_path: Path, model: torch.nn.Module) -> str:
    """A checkpoint as the Runner writes it: weights, meta with numpy values, MessageHub."""
    hub = MessageHub.get_instance("vipseg-test-inference")
    hub.update_scalar("train/loss", 1.0)
    meta = dict(dataset_meta=dict(classes=CLASSES, palette=PALETTE), seed=np.int64(0))
    path = tmp_path / "model.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=meta, message_hub=hub.state_dict()), path)
    return str(path)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_init_model_loads_a_local_checkpoint_and_its_dataset_meta(tmp_path):
    source = MODELS.build(load_config(CONFIG).model)
    path = _checkpoint(tmp_path, source)
    model = init_model(CONFIG, path)
    assert _same_weights(model, source) and not model.training
    assert model.dataset_meta["palette"] == PALETTE  # from the checkpoint, not the class


def test_init_model_without_checkpoint_uses_the_dataset_metainfo():
    model = init_model(CONFIG)
    assert model.dataset_meta["classes"] == CLASSES


def test_init_cfg_pretrained_loads_the_local_checkpoint(tmp_path):
    source = MODELS.build(load_config(CONFIG).model)
    path = _checkpoint(tmp_path, source)
    cfg = load_config(CONFIG).model
    cfg.init_cfg = dict(type="Pretrained", checkpoint=path)
    model = MODELS.build(cfg)
    assert not _same_weights(model, source)  # a fresh random init ...
    model.init_weights()
    assert _same_weights(model, source)  # ... replaced by the file's weights


def test_inference_model_on_a_path_and_an_array(toycity_root):
    model = init_model(CONFIG)
    path = str(sorted(toycity_root.glob("leftImg8bit/val/*/*.png"))[0])
    image = cv2.imread(path)
    one = inference_model(model, path)
    assert one.pred_sem_seg.data.shape == (1, *image.shape[:2])
    assert one.seg_logits.data.shape == (19, *image.shape[:2])
    both = inference_model(model, [path, image])
    assert len(both) == 2
    torch.testing.assert_close(both[0].seg_logits.data, both[1].seg_logits.data)
