# Model study on a CPU budget (docs/models.md): DeepLabV3+ on the quarter-width ResNet-18 of
# configs/deeplabv3_r18q_camvid_cpu.py, whose data, schedule and optimizer it shares. The
# decoder widths are the R50 recipe's scaled by the head's 64/256: 12 low-level channels.
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
norm_cfg = dict(type="BN", requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type="DeepLabV3PlusHead",
        in_channels=128,
        in_index=3,
        channels=64,
        dilations=(1, 12, 24, 36),
        c1_in_channels=16,
        c1_channels=12,
        c1_in_index=0,
        separable=True,
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type="CrossEntropyLoss", loss_weight=1.0),
    ),
)
