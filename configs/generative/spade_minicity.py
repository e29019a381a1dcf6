# SPADE (GauGAN) on MiniCity train (docs/generative.md): the paper's Cityscapes setting
# (whole images at 256x512, instance-boundary channel) with OASIS-style noise; hinge +
# feature matching, TTUR Adam, bf16 on GPU.
# Train: python tools/generative/train_spade.py configs/generative/spade_minicity.py
_base_ = ["../_base_/datasets/minicity.py"]
default_scope = "vipseg"
num_classes = 19
render_scale = (512, 256)  # (w, h): whole frames, as SPADE trains on Cityscapes
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", with_instance=True),
    dict(type="Resize", scale=render_scale, keep_ratio=True),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(batch_size=16, num_workers=8, dataset=dict(pipeline=train_pipeline))
generator = dict(
    type="SPADEGenerator",
    num_classes=num_classes,
    base_channels=64,
    num_up=5,
    z_dim=64,
    instance_edges=True,
)
# 3 image channels + the classes + void + the instance-edge channel
discriminator = dict(
    type="MultiScalePatchDiscriminator", in_channels=3 + num_classes + 2, num_scales=2
)
gan_cfg = dict(max_iters=20000, render_scale=render_scale)
# The seed's CopyBlob rules (wall, fence -> sidewalk; bus, train -> road) for new layouts.
synthesis_cfg = dict(
    rules="cityscapes",
    blob_prob=0.5,
    max_blobs=3,
    # --mode copyblob --harmonize: one SinGAN per image, the paper's settings (GPU work)
    singan=dict(type="SinGAN", max_size=250, iters_per_scale=2000),
)
randomness = dict(seed=0)
