# DeepLabV3 on timm's ResNet-50 (needs the optional timm: pip install timm) on CamVid at full
# 360x480 crops, 20k iterations, from scratch (pretrained=False, as the VIPriors rules require).
# timm's own stem and BatchNorm; output stride 8 through timm's dilation.
_base_ = [
    "../_base_/models/deeplabv3_r50-d8.py",
    "../_base_/datasets/camvid.py",
    "../_base_/default_runtime.py",
    "../_base_/schedules/schedule_20k.py",
]
num_classes = 11
crop_size = (360, 480)
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# timm builds plain BatchNorm; mmengine converts it to SyncBN in distributed runs only.
sync_bn = "torch"
model = dict(
    data_preprocessor=dict(size=crop_size),
    # Levels 1-4 are the four residual stages: 256, 512, 1024, 2048 channels.
    backbone=dict(
        _delete_=True,
        type="TimmBackbone",
        model_name="resnet50",
        out_indices=(1, 2, 3, 4),
        output_stride=8,
        pretrained=False,
    ),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
)
