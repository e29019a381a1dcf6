# The GAN-augmentation ablation on a CPU budget (docs/generative.md): the CPU CamVid recipe
# (deeplabv3_r18q_camvid_cpu.py) with a quarter of its samples drawn from pairs synthesized
# by a SPADE generator trained on CamVid train:
#   python tools/generative/train_spade.py configs/generative/spade_camvid_cpu.py
#   python tools/generative/synthesize.py configs/generative/spade_camvid_cpu.py \
#       --checkpoint work_dirs/spade_camvid_cpu/iter_4000.pth --num 367 --out data/camvid_spade
_base_ = "../deeplabv3_r18q_camvid_cpu.py"
camvid_train = dict(
    type="CamVidDataset",
    data_root="data/camvid",
    data_prefix=dict(img_path="img_dir/train", seg_map_path="ann_dir/train"),
    pipeline={{_base_.train_pipeline}},
)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type="RealSyntheticMix",
        dataset=camvid_train,
        synthetic=dict(camvid_train, data_root="data/camvid_spade"),
        synthetic_ratio=0.25,
    )
)
