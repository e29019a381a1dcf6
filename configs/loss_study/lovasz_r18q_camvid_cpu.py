# Loss study (docs/losses.md): Lovász-Softmax alone on the decode head (present classes,
# one term per batch). The auxiliary head keeps cross entropy.
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
model = dict(decode_head=dict(loss_decode=dict(_delete_=True, type="LovaszLoss")))
