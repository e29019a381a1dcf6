# Model study on a CPU budget (docs/models.md): U-Net (bilinear up-sampling, BN) with base width
# 10 instead of 64, on the data, schedule and optimizer of configs/deeplabv3_r18q_camvid_cpu.py.
# Width 10 gives about the baseline's FLOPs (9.74 vs 9.63 GMACs at 512x1024). No auxiliary head.
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
norm_cfg = dict(type="BN", requires_grad=True)
width = 10
model = dict(
    backbone=dict(
        _delete_=True,
        type="UNet",
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
    auxiliary_head=None,
)
