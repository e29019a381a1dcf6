# DeepLabV3 with ResNet-18 on MiniCity: basic blocks, so the heads read narrower features.
_base_ = "./deeplabv3_r101_minicity.py"
model = dict(
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, channels=128),
    auxiliary_head=dict(in_channels=256, channels=64),
)
