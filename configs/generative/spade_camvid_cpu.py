# SPADE on CamVid on a CPU budget (the figures of docs/generative.md without a GPU): images
# resized to 120x160, 96x128 crops, a quarter-width generator (base 16, SPADE hidden 32,
# 4 upsamplings) and discriminator, batch 4, 4000 iterations.
_base_ = "./spade_camvid.py"
crop_size = (96, 128)
render_scale = (160, 120)
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="Resize", scale=render_scale, keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(
    batch_size=4, num_workers=1, persistent_workers=True, dataset=dict(pipeline=train_pipeline)
)
generator = dict(base_channels=16, num_up=4, z_dim=16, hidden_channels=32)
discriminator = dict(base_channels=32)
gan_cfg = dict(
    max_iters=4000,
    render_scale=render_scale,
    log_interval=25,
    sample_interval=500,
    checkpoint_interval=500,
)
