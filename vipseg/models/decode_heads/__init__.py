from .aspp_head import ASPPHead
from .decode_head import BaseDecodeHead
from .fcn_head import FCNHead

__all__ = ["ASPPHead", "BaseDecodeHead", "FCNHead"]
