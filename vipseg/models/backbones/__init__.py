from .attention_unet import AttentionUNet
from .resnet import ResNet
from .timm_backbone import TimmBackbone
from .unet import UNet

__all__ = ["AttentionUNet", "ResNet", "TimmBackbone", "UNet"]
