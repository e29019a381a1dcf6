"""Training speed of a config against the seed-style loop, in one run, on identical inputs:
python tools/analysis_tools/benchmark_train.py CONFIG [--batch 8 --crop 512 1024 --steps 20].

vipseg: the config's model and optimizer wrapper built by mmengine's Runner with the settings
``tools/train.py`` applies (bf16 autocast and channels-last on CUDA, ``--compile``), trained
through ``model.train_step`` on synthetic uint8 batches (the data preprocessor included; decoding
and augmentation excluded: ``benchmark_data.py`` times those). Reference: the seed's loop,
torchvision DeepLabV3 (ResNet-101 or -50, output stride 8) in fp32: forward, cross-entropy,
backward, SGD step. Prints images/s, peak memory and MFU of both and their ratio.
"""

import argparse
import os.path as osp
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.analysis import FlopAnalyzer  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402

from vipseg.structures import SegDataSample  # noqa: E402
from vipseg.utils import (  # noqa: E402
    DictAction,
    apply_speed_settings,
    exit_on_input_error,
    keep_freed_memory,
    load_config,
    register_all_modules,
)

# Dense bf16 tensor-core peaks (TFLOP/s) for MFU, by device name; --peak-tflops overrides.
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Training img/s of a config vs the seed loop")
    parser.add_argument("config")
    parser.add_argument("--batch", type=int, default=8, help="images per step (%(default)s)")
    parser.add_argument("--crop", type=int, nargs=2, default=[512, 1024], metavar=("H", "W"))
    parser.add_argument("--steps", type=int, default=20, help="timed steps (%(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps (%(default)s)")
    parser.add_argument("--amp", action="store_true", help="vipseg in bf16 even on CPU")
    parser.add_argument("--no-amp", action="store_true", help="vipseg in fp32 too")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print vipseg's top N ops by time"
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile vipseg's step")
    parser.add_argument(
        "--reference",
        choices=["auto", "deeplabv3_resnet101", "deeplabv3_resnet50", "none"],
        default="auto",
        help="the seed-style model; auto: ResNet-101 for a depth-101 backbone, else ResNet-50",
    )
    parser.add_argument("--peak-tflops", type=float, help="device peak for MFU")
    parser.add_argument("--no-flops", action="store_true", help="skip the FLOP count and MFU")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    args = parser.parse_args(argv)
    if min(args.batch, args.steps, *args.crop) < 1 or args.warmup < 0:
        raise SystemExit("benchmark_train.py: --batch, --steps, --crop must be >= 1")
    return args


def synthetic_batch(n: int, crop: tuple[int, int], num_classes: int, seed: int = 0) -> dict:
    """``n`` random uint8 images and labels of ``crop`` size, as the data loader collates."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, *crop), dtype=torch.uint8, generator=gen))
        sample = SegDataSample(metainfo=dict(img_shape=crop, ori_shape=crop))
        labels = torch.randint(0, num_classes, (1, *crop), generator=gen)
        sample.gt_sem_seg = PixelData(data=labels)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def timed(step, warmup: int, steps: int, device: torch.device) -> tuple[float, float | None]:
    """Seconds per step (after ``warmup``) and peak GiB allocated (CUDA) while timing."""
    for _ in range(warmup):
        step()
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    return seconds, torch.cuda.max_memory_allocated() / 2**30 if cuda else None


def step_flops(model: torch.nn.Module, crop: tuple[int, int], device) -> float:
    """FLOPs of one training step per image: 2 x MACs of the forward pass x 3 (forward +
    backward, whose two matmuls per layer cost twice the forward)."""
    x = torch.randn(1, 3, *crop, device=device)
    was_training = model.training
    model.eval()  # one image: BN on a 1x1 pooled map needs running statistics
    analyzer = FlopAnalyzer(model, (x,))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    total = analyzer.total()
    model.train(was_training)
    return 2.0 * total * 3


def profile(step, top: int, device) -> None:
    """One step under torch.profiler: the ``top`` operators by their own time."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with torch_profile(activities=activities) as prof:
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=top))


def build_vipseg(args, tmp: str):
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir, cfg.launcher, cfg.log_level = tmp, "none", "WARNING"
    cfg.visualizer.vis_backends = [dict(type="LocalVisBackend")]
    # The preprocessor pads training batches to its size (the config's crop): use --crop, or
    # vipseg would compute on a larger input than the reference.
    cfg.model.data_preprocessor.size = tuple(args.crop)
    apply_speed_settings(cfg, amp=args.amp, no_amp=args.no_amp, compile=args.compile)
    runner = Runner.from_cfg(cfg)
    wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    if cfg.get("compile"):
        runner._maybe_compile("train_step")  # mmengine's own: what tools/train.py runs
    return runner.model, wrapper, cfg


class _Out(torch.nn.Module):
    """torchvision's segmentation models return a dict; the FLOP counter wants a tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def reference_step(name: str, args, num_classes: int, device):
    from torchvision.models import segmentation

    build = getattr(segmentation, name)
    model = build(weights=None, weights_backbone=None, num_classes=num_classes)
    model = model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, 3, *args.crop, generator=gen).to(device)
    y = torch.randint(0, num_classes, (args.batch, *args.crop), generator=gen).to(device)

    def step():
        loss = F.cross_entropy(model(x)["out"], y, ignore_index=255)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step, _Out(model)


def report(rows: list[dict], peak: float | None) -> None:
    print("| run | precision | img/s | ms/step | peak mem GiB | TFLOP/img-step | TFLOP/s | MFU |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        tflops = r["flops"] * r["ips"] / 1e12 if r["flops"] else None
        mfu = f"{100 * tflops / peak:.1f}%" if tflops and peak else "n/a"
        mem = f"{r['mem']:.1f}" if r["mem"] is not None else "n/a"
        tf = f"{tflops:.3g}" if tflops else "n/a"
        per_img = f"{r['flops'] / 1e12:.3g}" if r["flops"] else "n/a"
        cells = [r["name"], r["precision"], f"{r['ips']:.3g}", f"{r['ms']:.1f}", mem, per_img]
        cells += [tf, mfu]
        print("| " + " | ".join(cells) + " |")
    if len(rows) == 2:
        print(f"\nvipseg / reference: {rows[0]['ips'] / rows[1]['ips']:.2f}x images/s")


def _row(name, precision, batch, seconds, mem, flops) -> dict:
    ips, ms = batch / seconds, 1000 * seconds
    return dict(name=name, precision=precision, ips=ips, ms=ms, mem=mem, flops=flops)


def time_vipseg(args, tmp: str) -> tuple[dict, int, object]:
    """vipseg's row; the model is freed on return, before the reference is built."""
    model, wrapper, cfg = build_vipseg(args, tmp)
    device = next(model.parameters()).device
    crop = tuple(args.crop)
    batch = synthetic_batch(args.batch, crop, model.num_classes)
    seconds, mem = timed(lambda: model.train_step(batch, wrapper), args.warmup, args.steps, device)
    if args.profile:
        profile(lambda: model.train_step(batch, wrapper), args.profile, device)
    precision = "bf16 autocast" if type(wrapper).__name__ == "SegAmpOptimWrapper" else "fp32"
    flops = None if args.no_flops else step_flops(model, crop, device)
    name = osp.splitext(osp.basename(args.config))[0]
    return _row(name, precision, args.batch, seconds, mem, flops), model.num_classes, cfg


def time_reference(name: str, args, num_classes: int) -> dict:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    step, counted = reference_step(name, args, num_classes, device)
    seconds, mem = timed(step, args.warmup, args.steps, device)
    flops = None if args.no_flops else step_flops(counted, tuple(args.crop), device)
    return _row(f"seed-style {name}", "fp32", args.batch, seconds, mem, flops)


def run(args) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        row, num_classes, cfg = time_vipseg(args, tmp)
    rows = [row]
    ref = args.reference
    if ref == "auto":
        depth = cfg.model.backbone.get("depth")
        ref = "deeplabv3_resnet101" if depth == 101 else "deeplabv3_resnet50"
    if ref != "none":
        rows.append(time_reference(ref, args, num_classes))
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # as tools/train.py: large CPU buffers are not unmapped every step
    register_all_modules()
    with exit_on_input_error():
        rows = run(args)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    peak = args.peak_tflops or next((v for k, v in PEAK_TFLOPS.items() if k in device), None)
    print(f"\n{' '.join(sys.argv)}")
    print(
        f"device: {device}, torch {torch.__version__}, batch {args.batch}, crop "
        f"{tuple(args.crop)}, {args.steps} timed steps, peak {peak or 'unknown'} TFLOP/s\n"
    )
    report(rows, peak)


if __name__ == "__main__":
    main()
