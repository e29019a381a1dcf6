# SPADE (GauGAN) label-to-image generator on CamVid train (docs/generative.md): the paper's
# generator and two-scale PatchGAN discriminator at 256x320 crops of images resized to
# 320x427, hinge + feature-matching losses (no VGG loss: no pretrained weights offline), TTUR
# Adam, bf16 on GPU. Train with tools/generative/train_spade.py, then synthesize pairs with
# tools/generative/synthesize.py (rendered at render_scale).
_base_ = ["../_base_/datasets/camvid.py"]
default_scope = "vipseg"
num_classes = 11
crop_size = (256, 320)
render_scale = (427, 320)  # (w, h) the generator sees whole images at: the training resize
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="Resize", scale=render_scale, keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(batch_size=16, num_workers=8, dataset=dict(pipeline=train_pipeline))
generator = dict(
    type="SPADEGenerator",
    num_classes=num_classes,
    base_channels=64,
    num_up=5,
    z_dim=64,  # OASIS-style 3D noise: several images per label map
)
# 3 image channels + the classes + void (label_input.label_channels)
discriminator = dict(
    type="MultiScalePatchDiscriminator", in_channels=3 + num_classes + 1, num_scales=2
)
gan_cfg = dict(max_iters=20000, render_scale=render_scale)
# CamVid CopyBlob rules (fence, pole, pedestrian -> pavement; bicyclist -> road).
synthesis_cfg = dict(
    rules="camvid",
    blob_prob=0.5,
    max_blobs=3,
    # --mode copyblob --harmonize: one SinGAN per image, the paper's settings (GPU work)
    singan=dict(type="SinGAN", max_size=250, iters_per_scale=2000),
)
randomness = dict(seed=0)
