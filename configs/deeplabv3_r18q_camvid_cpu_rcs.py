# The CPU CamVid recipe with rare-class sampling (DAFormer): each training item shows a class
# drawn with P(c) = softmax((1 - f_c) / T), and the crop is kept around that class. The class
# statistics are computed when the dataset is built (docs/sampling.md has the formula and cost).
_base_ = "./deeplabv3_r18q_camvid_cpu.py"
train_pipeline = [
    dict(step, class_aware=True) if step["type"] == "RandomCrop" else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(
    dataset=dict(
        # Replace the dataset by the wrapper, which holds it (with the new pipeline) inside.
        _delete_=True,
        type="RareClassSampling",
        temperature=0.01,
        min_pixels=3000,
        dataset=dict(_base_.train_dataloader.dataset, pipeline=train_pipeline),
    )
)
