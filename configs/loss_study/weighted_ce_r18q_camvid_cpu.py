# Loss study (docs/losses.md): class-weighted cross entropy on both heads. The weights are
# sqrt-damped median-frequency weights of CamVid train, normalised so that the pixel-share-
# weighted mean weight is 1:
#   python tools/analysis_tools/class_weights.py configs/deeplabv3_r18q_camvid_cpu.py \
#       --data-root data/camvid --method median_freq --power 0.5
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
class_weight = [0.9047, 0.7689, 3.7454, 0.6609, 1.7115, 1.1138,
                3.3566, 2.4082, 1.5203, 4.3246, 5.0827]  # fmt: skip
model = dict(
    decode_head=dict(loss_decode=dict(class_weight=class_weight)),
    auxiliary_head=dict(loss_decode=dict(class_weight=class_weight)),
)
