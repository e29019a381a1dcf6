# The demo: DeepLabV3 on a half-width ResNet-18, trained from scratch on the synthetic toy city
# (python tools/misc/make_toycity.py --out data/toycity) in a few minutes on a laptop CPU.
_base_ = [
    "./_base_/models/deeplabv3_r50-d8.py",
    "./_base_/datasets/minicity.py",
    "./_base_/default_runtime.py",
    "./_base_/schedules/schedule_20k.py",
]
num_classes = 19
crop_size = (256, 256)
data_root = "data/toycity"
max_iters = 600
# Plain BN: SyncBN needs GPUs, and the demo also runs as 2-process DDP on CPU in the tests.
norm_cfg = dict(type="BN", requires_grad=True)
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="RandomResize", scale=(512, 256), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline),
)
val_dataloader = dict(batch_size=4, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(size=crop_size, size_divisor=8),
    backbone=dict(depth=18, base_channels=32, stem_channels=32, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=256, channels=64, num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=128, channels=32, num_classes=num_classes, norm_cfg=norm_cfg),
)
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type="PolyLR", eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, save_best=None),
)
randomness = dict(seed=0)
