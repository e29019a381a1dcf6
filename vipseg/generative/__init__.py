"""GAN augmentation (docs/generative.md): a SPADE label-to-image generator trained on the
training split (SPADE's or OASIS's objective), label-map edits, synthesis of new image/label
pairs, and SinGAN-style harmonization of pasted blobs. Networks are registered in
:data:`vipseg.registry.MODELS`."""

from .discriminator import MultiScalePatchDiscriminator, PatchDiscriminator
from .label_input import encode_labels, instance_boundaries, label_channels
from .oasis import OASISDiscriminator
from .singan import SinGAN
from .spade import SPADE, SPADEGenerator, SPADEResBlock
from .trainer import OASISTrainer, SPADETrainer

__all__ = [
    "MultiScalePatchDiscriminator",
    "OASISDiscriminator",
    "PatchDiscriminator",
    "SPADE",
    "SinGAN",
    "SPADEGenerator",
    "SPADEResBlock",
    "OASISTrainer",
    "SPADETrainer",
    "encode_labels",
    "instance_boundaries",
    "label_channels",
]
