from .accuracy import accuracy
from .base import BaseSegLoss, registered_losses
from .cross_entropy_loss import CrossEntropyLoss, cross_entropy
from .focal_loss import FocalLoss, focal_loss
from .lovasz_loss import LovaszLoss, lovasz_softmax
from .ohem_cross_entropy_loss import OhemCrossEntropyLoss, ohem_mask
from .tversky_loss import DiceLoss, FocalTverskyLoss, focal_tversky, tversky_index

__all__ = [
    "BaseSegLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "FocalLoss",
    "FocalTverskyLoss",
    "LovaszLoss",
    "OhemCrossEntropyLoss",
    "accuracy",
    "cross_entropy",
    "focal_loss",
    "focal_tversky",
    "lovasz_softmax",
    "ohem_mask",
    "registered_losses",
    "tversky_index",
]
