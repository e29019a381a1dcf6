# MiniCity (VIPriors): a Cityscapes subset in the official layout under data/minicity.
# The training pipeline (it holds the crop size) is set in the leaf configs.
dataset_type = "CityscapesDataset"
data_root = "data/minicity"
# Instance maps feed CityscapesMetric's iIoU and its label-ID ground truth.
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", with_instance=True),
    dict(type="PackSegInputs"),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="InfiniteSampler", shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path="leftImg8bit/train", seg_map_path="gtFine/train"),
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path="leftImg8bit/val", seg_map_path="gtFine/val"),
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
# The challenge's scores: class/category IoU and iIoU, as cityscapesscripts computes them.
val_evaluator = dict(type="CityscapesMetric")
test_evaluator = val_evaluator
