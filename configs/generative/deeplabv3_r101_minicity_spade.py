# MiniCity DeepLabV3-R101 with a quarter of its samples synthesized by SPADE
# (docs/generative.md):
#   python tools/generative/train_spade.py configs/generative/spade_minicity.py
#   python tools/generative/synthesize.py configs/generative/spade_minicity.py \
#       --checkpoint work_dirs/spade_minicity/iter_20000.pth --num 800 --out data/minicity_spade
_base_ = "../deeplabv3_r101_minicity.py"
minicity_train = dict(
    type="CityscapesDataset",
    data_root="data/minicity",
    data_prefix=dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train"),
    pipeline={{_base_.train_pipeline}},
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type="RealSyntheticMix",
        dataset=minicity_train,
        synthetic=dict(minicity_train, data_root="data/minicity_spade"),
        synthetic_ratio=0.25,
    )
)
