"""GAN augmentation (docs/generative.md): a SPADE label-to-image generator trained on the
training split, label-map edits, synthesis of new image/label pairs, and SinGAN-style
harmonization of pasted blobs. Networks are registered in :data:`vipseg.registry.MODELS`."""

from .discriminator import MultiScalePatchDiscriminator, PatchDiscriminator
from .label_input import encode_labels, instance_boundaries, label_channels
from .singan import SinGAN
from .spade import SPADE, SPADEGenerator, SPADEResBlock
from .trainer import SPADETrainer

__all__ = [
    "MultiScalePatchDiscriminator",
    "PatchDiscriminator",
    "SPADE",
    "SinGAN",
    "SPADEGenerator",
    "SPADEResBlock",
    "SPADETrainer",
    "encode_labels",
    "instance_boundaries",
    "label_channels",
]
