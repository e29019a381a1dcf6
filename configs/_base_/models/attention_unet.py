# Attention U-Net (Oktay et al. 2018): U-Net with additive attention gates on the skips.
# The backbone returns its decoder levels coarse to fine (8C at 1/8, 4C at 1/4, 2C at 1/2,
# C at full resolution); the leaf configs add deep supervision as auxiliary 1x1 heads on the
# 1/4 and 1/2 levels (they carry num_classes, so they live in the leaves).
# num_classes and the crop size (data_preprocessor.size) are set in the leaf configs.
norm_cfg = dict(type="SyncBN", requires_grad=True)
data_preprocessor = dict(
    type="SegDataPreProcessor",
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
)
model = dict(
    type="EncoderDecoder",
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type="AttentionUNet",
        in_channels=3,
        base_channels=64,
        upsample_mode="bilinear",
        norm_cfg=norm_cfg,
    ),
    decode_head=dict(
        type="FCNHead",
        in_channels=64,
        in_index=-1,
        channels=64,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type="CrossEntropyLoss", loss_weight=1.0),
    ),
    test_cfg=dict(mode="whole"),
)
