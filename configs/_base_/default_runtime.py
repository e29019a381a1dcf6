# Runtime settings shared by every config: scope, environment, logging, visualization.
default_scope = "vipseg"
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
    dist_cfg=dict(backend="nccl"),  # tools/train.py switches to gloo when there is no GPU
)
# Experiment tracking (docs/tracking.md). Scalars (each loss term, lr, grad_norm, time,
# data_time, GPU memory, val mIoU and IoU.<class>) and validation panels go to every backend.
# The local JSON log is always on; TensorBoard and W&B are one switch each, here or with
#   --cfg-options visualizer.tensorboard=True visualizer.wandb=True
# (W&B runs offline unless WANDB_MODE=online; `wandb sync` uploads an offline run later).
# Speed on a CUDA GPU (docs/benchmarks.md): bf16 autocast without a loss scaler
# (SegAmpOptimWrapper) and channels-last tensors; tools/train.py applies them only where CUDA
# is available (CPU runs stay fp32; --amp forces bf16, --no-amp turns it off), and pins the
# loaders' memory there. compile = True (or --compile) torch.compiles the training step.
amp = True
channels_last = True
compile = None
vis_backends = [dict(type="LocalVisBackend")]
visualizer = dict(
    type="SegLocalVisualizer",
    vis_backends=vis_backends,
    tensorboard=False,
    wandb=False,
    wandb_init_kwargs=dict(project="vipseg"),
    name="visualizer",
)
# grad_norm is measured once per log interval (GradNormHook): show that value, not a mean.
log_processor = dict(
    type="SegLogProcessor",  # val timings as val_time / val_data_time, apart from training's
    by_epoch=False,
    custom_cfg=[dict(data_src="grad_norm", method_name="mean", window_size=1)],
)
log_level = "INFO"
load_from = None
resume = False
