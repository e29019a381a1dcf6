# OASIS objective (Sushko, Schönfeld et al. 2021) on CamVid train, the alternative to
# SPADE's VGG loss without pretrained weights (docs/generative.md): the same generator with 3D noise, a
# U-Net segmentation discriminator (11 classes + "fake", 6 levels), class-balanced
# cross-entropy and LabelMix consistency, Adam betas (0, 0.999).
_base_ = "./spade_camvid.py"
discriminator = dict(
    _delete_=True, type="OASISDiscriminator", num_classes=11, base_channels=64, num_down=6
)
gan_cfg = dict(objective="oasis", betas=(0.0, 0.999), lambda_labelmix=10.0)
