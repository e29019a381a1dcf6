# U-Net (base width 64, bilinear up-sampling) on MiniCity at 512x1024 crops, 20k iterations,
# trained from scratch as the VIPriors rules require.
_base_ = [
    "../_base_/models/unet.py",
    "../_base_/datasets/minicity.py",
    "../_base_/default_runtime.py",
    "../_base_/schedules/schedule_20k.py",
]
num_classes = 19
crop_size = (512, 1024)
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="RandomResize", scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PhotoMetricDistortion"),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
)
