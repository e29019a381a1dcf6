# Model study on a CPU budget (docs/models.md): Attention U-Net (bilinear up-sampling, BN, deep
# supervision on the 1/2 and 1/4 levels) with base width 10 instead of 64, on the data, schedule
# and optimizer of configs/deeplabv3_r18q_camvid_cpu.py; the same width as unet_w10_camvid_cpu.py.
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
norm_cfg = dict(type="BN", requires_grad=True)
width = 10
model = dict(
    backbone=dict(
        _delete_=True,
        type="AttentionUNet",
        in_channels=3,
        base_channels=width,
        upsample_mode="bilinear",
        norm_cfg=norm_cfg,
    ),
    decode_head=dict(
        _delete_=True,
        type="FCNHead",
        in_channels=width,
        in_index=-1,
        channels=width,
        num_convs=0,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type="CrossEntropyLoss", loss_weight=1.0),
    ),
    auxiliary_head=[
        dict(
            type="FCNHead",
            in_channels=c * width,
            in_index=i,
            channels=c * width,
            num_convs=0,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=11,
            norm_cfg=norm_cfg,
            loss_decode=dict(type="CrossEntropyLoss", loss_weight=0.4),
        )
        for i, c in ((2, 2), (1, 4))
    ],
)
