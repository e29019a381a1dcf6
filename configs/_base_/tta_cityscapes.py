# Test-time augmentation: every image is predicted at each ratio of its original size, plain
# and flipped horizontally (8 x 2 = 16 views), and SegTTAModel averages the softmax
# probabilities of the views. `tools/test.py CONFIG CKPT --tta` takes tta_model and
# tta_pipeline from this file where CONFIG does not define its own.
#
# Other scales: define tta_pipeline (and tta_model) in a config, e.g. the list below with other
# img_ratios; or change single ratios with --cfg-options, e.g.
# `--cfg-options tta_pipeline.1.transforms.0.7.scale_factor=2.0` (the 8th ratio). --cfg-options
# cannot add or remove views: its values cannot be dicts.
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.2]
tta_model = dict(type="SegTTAModel")
tta_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(
        type="TestTimeAug",
        transforms=[
            [dict(type="Resize", scale_factor=r, keep_ratio=True) for r in img_ratios],
            [
                dict(type="RandomFlip", prob=0.0, direction="horizontal"),
                dict(type="RandomFlip", prob=1.0, direction="horizontal"),
            ],
            # After resize and flip, so the labels stay at the original size for the metric;
            # instance maps as in the Cityscapes test pipeline, for CityscapesMetric.
            [dict(type="LoadAnnotations", with_instance=True)],
            [dict(type="PackSegInputs")],
        ],
    ),
]
