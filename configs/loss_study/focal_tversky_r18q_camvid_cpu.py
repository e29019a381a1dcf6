# Loss study (docs/losses.md): Focal-Tversky (alpha 0.7 on false negatives, beta 0.3 on false
# positives, gamma 4/3) on the decode head. The auxiliary head keeps cross entropy.
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
model = dict(decode_head=dict(loss_decode=dict(_delete_=True, type="FocalTverskyLoss")))
