from .base import BaseSegmentor
from .encoder_decoder import EncoderDecoder
from .seg_tta import SegTTAModel

__all__ = ["BaseSegmentor", "EncoderDecoder", "SegTTAModel"]
