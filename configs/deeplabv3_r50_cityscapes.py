# DeepLabV3 with ResNet-50 on full Cityscapes (data/cityscapes), 512x1024 crops, 40k iterations.
_base_ = [
    "./_base_/models/deeplabv3_r50-d8.py",
    "./_base_/datasets/minicity.py",
    "./_base_/default_runtime.py",
    "./_base_/schedules/schedule_40k.py",
]
num_classes = 19
crop_size = (512, 1024)
data_root = "data/cityscapes"
train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations"),
    dict(type="RandomResize", scale=(2048, 1024), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type="RandomCrop", crop_size=crop_size, cat_max_ratio=0.75),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PhotoMetricDistortion"),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
)
