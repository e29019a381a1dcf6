# DeepLabV3 with ResNet-50 on MiniCity; everything else as the ResNet-101 config.
_base_ = "./deeplabv3_r101_minicity.py"
model = dict(backbone=dict(depth=50))
