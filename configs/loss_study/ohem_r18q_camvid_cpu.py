# Loss study (docs/losses.md): OHEM cross entropy on the decode head; threshold 0.7 on the
# true-class probability, at least 100000 pixels per 512x1024 image (32959 per 360x480 crop).
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
model = dict(
    decode_head=dict(
        loss_decode=dict(_delete_=True, type="OhemCrossEntropyLoss", thresh=0.7, min_kept=100_000)
    )
)
