# Attention U-Net (base width 64, bilinear up-sampling, deep supervision) on MiniCity at
# 512x1024 crops, 20k iterations, trained from scratch as the VIPriors rules require.
_base_ = [
    "../_base_/models/attention_unet.py",
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
# Deep supervision (Oktay et al. 2018, after Lee et al. 2015): a 1x1 classifier with its own
# loss on the 1/2 (2C = 128 channels) and 1/4 (4C = 256) decoder levels, in training only.
deep_supervision = [
    dict(
        type="FCNHead",
        in_channels=c,
        in_index=i,
        channels=c,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=num_classes,
        loss_decode=dict(type="CrossEntropyLoss", loss_weight=0.4),
    )
    for i, c in ((2, 128), (1, 256))
]
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=deep_supervision,
)
