from .acf_head import ACFHead
from .aspp_head import ASPPHead
from .decode_head import BaseDecodeHead
from .deeplabv3plus_head import DeepLabV3PlusHead
from .fcn_head import FCNHead

__all__ = ["ACFHead", "ASPPHead", "BaseDecodeHead", "DeepLabV3PlusHead", "FCNHead"]
