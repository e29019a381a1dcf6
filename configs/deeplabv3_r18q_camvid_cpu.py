# CamVid on a CPU budget: the toy-city demo's model (quarter-width ResNet-18, output stride 8,
# AdamW) on 360x480 crops for 600 iterations. For figures that need a model trained on real
# data where no GPU is at hand (docs/evaluation.md); the GPU recipes are the other configs.
# It bases on _base_ files directly (not on deeplabv3_r50_camvid.py) so that variants of it,
# such as configs/loss_study/, stay one level from _base_.
_base_ = [
    "./_base_/models/deeplabv3_r50-d8.py",
    "./_base_/datasets/camvid.py",
    "./_base_/default_runtime.py",
    "./_base_/schedules/schedule_20k.py",
]
num_classes = 11
crop_size = (360, 480)
max_iters = 600
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="RandomResize", scale=(480, 360), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PhotoMetricDistortion"),
    dict(type="Pad", size=crop_size),
    dict(type="PackSegInputs"),
]
norm_cfg = dict(type="BN", requires_grad=True)  # SyncBN needs GPUs
train_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, base_channels=16, stem_channels=16, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=128, channels=64, num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=64, channels=32, num_classes=num_classes, norm_cfg=norm_cfg),
)
optim_wrapper = dict(optimizer=dict(_delete_=True, type="AdamW", lr=3e-3, weight_decay=0.01))
param_scheduler = [
    dict(type="PolyLR", eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, save_best=None),
)
randomness = dict(seed=0)
