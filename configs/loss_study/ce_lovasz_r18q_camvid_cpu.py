# Loss study (docs/losses.md): cross entropy plus Lovász-Softmax on the decode head, equal
# weights; each term is logged under its own loss_name.
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
model = dict(
    decode_head=dict(
        loss_decode=[
            dict(type="CrossEntropyLoss", loss_weight=1.0),
            dict(type="LovaszLoss", loss_weight=1.0),
        ]
    )
)
