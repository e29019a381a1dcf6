# DeepLabV3 with ResNet-18 on CamVid; everything else as the ResNet-50 config.
_base_ = "./deeplabv3_r50_camvid.py"
model = dict(
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64),
)
