# Model study on a CPU budget (docs/models.md): ACFNet on the quarter-width ResNet-18 of
# configs/deeplabv3_r18q_camvid_cpu.py, whose data, schedule and optimizer it shares. Head
# widths are the R50 recipe's (512 / 256) scaled to the baseline's 64 / 32; loss weights as in
# configs/_base_/models/acfnet_r50-d8.py (fine 0.7, coarse 0.6, auxiliary 0.4).
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
norm_cfg = dict(type="BN", requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type="ACFHead",
        in_channels=128,
        in_index=3,
        channels=64,
        acf_channels=32,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=11,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type="CrossEntropyLoss", loss_weight=0.7),
        coarse_loss_decode=dict(type="CrossEntropyLoss", loss_weight=0.6),
    ),
)
