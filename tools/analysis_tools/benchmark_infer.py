"""Inference speed: python tools/analysis_tools/benchmark_infer.py CONFIG [CHECKPOINT] [options].

Images/s, ms/image and peak memory of the config's model in three modes at one input size
(default 1024x2048, Cityscapes frames): ``whole`` (one forward per image), ``slide`` (sliding
window: the config's test_cfg crop/stride if it slides, else ``--crop`` / ``--stride``) and
``tta`` (SegTTAModel over the views tools/test.py --tta builds). Each step is
``model.test_step`` on a batch of synthetic uint8 images: data preprocessor (transfer,
normalization, padding), inference and post-processing (un-pad, un-flip, resize to the
original size, argmax; for TTA the softmax average) are timed; decoding and the CPU pipeline
(the TTA resizes and flips, done by the data loader workers in tools/test.py) are not.
Without a checkpoint the weights are the random initialisation: the speed is the same.
"""

import argparse
import contextlib
import importlib.util
import os
import os.path as osp
import sys
import threading
import time

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from mmengine.dataset import Compose, pseudo_collate  # noqa: E402

from vipseg.apis import init_model  # noqa: E402
from vipseg.registry import MODELS  # noqa: E402
from vipseg.utils import (  # noqa: E402
    ConfigError,
    DictAction,
    MissingDataError,
    exit_on_input_error,
    keep_freed_memory,
    load_config,
    register_all_modules,
    replace_annotations,
)

MODES = ("whole", "slide", "tta")
SKIP = {"LoadImageFromFile", "LoadAnnotations"}  # synthetic images, no labels


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Inference images/s: whole, slide, TTA")
    parser.add_argument("config")
    parser.add_argument("checkpoint", nargs="?", help="optional; random weights without it")
    parser.add_argument("--modes", nargs="+", default=list(MODES), help="subset of %(default)s")
    parser.add_argument("--size", nargs=2, type=int, default=[1024, 2048], metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=1, help="images per step, every mode")
    # Used only where the config's test_cfg does not slide; mmseg's Cityscapes window.
    parser.add_argument("--crop", nargs=2, type=int, default=[512, 1024], metavar=("H", "W"))
    parser.add_argument("--stride", nargs=2, type=int, default=[341, 683], metavar=("H", "W"))
    parser.add_argument("--tta-ratios", nargs="+", type=float, help="replace the TTA ratios")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (%(default)s)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (%(default)s)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA or CPU)")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        raise ConfigError(f"--modes takes {', '.join(MODES)}; got {', '.join(unknown)}")
    for name in ("size", "crop", "stride"):
        if min(getattr(args, name)) < 1:
            raise ConfigError(f"--{name} must be two positive integers, got {getattr(args, name)}")
    if args.batch < 1 or args.steps < 1 or args.warmup < 0:
        raise ConfigError("need --batch >= 1, --steps >= 1 and --warmup >= 0")
    if args.tta_ratios and min(args.tta_ratios) <= 0:
        raise ConfigError(f"--tta-ratios must be positive, got {args.tta_ratios}")
    if args.checkpoint and not osp.isfile(args.checkpoint):
        raise MissingDataError(f"checkpoint {args.checkpoint} does not exist")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {args.device}: CUDA is not available here")


def tta_config(args: argparse.Namespace):
    """tools/test.py's own --tta config (config's tta_model/pipeline or its defaults)."""
    path = osp.join(REPO, "tools/test.py")
    spec = importlib.util.spec_from_file_location("vipseg_test_tool", path)
    test_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(test_tool)
    # build_cfg checks that a checkpoint file exists; it is not loaded from this config.
    ckpt = args.checkpoint or args.config
    test_args = test_tool.parse_args([args.config, ckpt, "--tta", "--no-progress"])
    test_args.cfg_options = args.cfg_options
    cfg = test_tool.build_cfg(test_args)
    pipeline = replace_annotations(cfg.tta_pipeline, None)
    if args.tta_ratios:
        pipeline = set_ratios(pipeline, args.tta_ratios)
    return {k: v for k, v in cfg.model.items() if k != "module"}, pipeline


def set_ratios(pipeline: list, ratios: list[float]) -> list:
    for step in pipeline:
        branches = step.get("transforms", []) if step.get("type") == "TestTimeAug" else []
        for i, branch in enumerate(branches):
            if branch and all(t.get("type") == "Resize" and "scale_factor" in t for t in branch):
                branches[i] = [dict(branch[0], scale_factor=r) for r in ratios]
                return pipeline
    raise ConfigError("--tta-ratios needs a TestTimeAug branch of Resize(scale_factor=...)")


def make_batch(pipeline: list, args: argparse.Namespace) -> dict:
    """The collated pipeline output of ``--batch`` random BGR uint8 images."""
    rng = np.random.default_rng(0)
    steps = Compose([s for s in pipeline if s["type"] not in SKIP])
    samples = []
    for _ in range(args.batch):
        img = rng.integers(0, 256, (*args.size, 3), dtype=np.uint8)
        shape = img.shape[:2]
        samples.append(steps(dict(img=img, img_path="", img_shape=shape, ori_shape=shape)))
    return pseudo_collate(samples)


class PeakMemory:
    """CUDA: max_memory_allocated. CPU: peak RSS (sampled every 5 ms) minus RSS at the start;
    freed memory stays in the process, so a mode run after another may show less."""

    def __init__(self, device: str):
        self.cuda = device.startswith("cuda")
        self.peak = self.base = 0
        self.running = False

    @staticmethod
    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.005)

    def __enter__(self):
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        elif osp.exists("/proc/self/statm"):
            self.base = self.peak = self.rss()
            self.running = True
            self.thread = threading.Thread(target=self.sample, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.cuda:
            self.peak = torch.cuda.max_memory_allocated()
        elif self.running:
            self.running = False
            self.thread.join()
            self.peak -= self.base

    def text(self) -> str:
        if not self.cuda and not self.base:
            return "n/a"
        return f"{self.peak / 2**20:.0f}"


def time_steps(model, batch: dict, args: argparse.Namespace) -> tuple[float, str]:
    """Seconds per timed step and the peak memory of all steps."""
    device_type = "cuda" if args.device.startswith("cuda") else "cpu"
    autocast = torch.autocast(device_type, dtype=torch.bfloat16, enabled=args.amp)
    sync = torch.cuda.synchronize if device_type == "cuda" else (lambda: None)
    # Memory from before the warm-up: the first step allocates what later steps reuse.
    with torch.inference_mode(), autocast, PeakMemory(args.device) as memory:
        for _ in range(args.warmup):
            model.test_step(batch)
        sync()
        start = time.perf_counter()
        for _ in range(args.steps):
            model.test_step(batch)
        sync()
        seconds = (time.perf_counter() - start) / args.steps
    return seconds, memory.text()


def slide_cfg(model, args: argparse.Namespace) -> dict:
    if model.test_cfg["mode"] == "slide":
        return dict(model.test_cfg)
    return dict(mode="slide", crop_size=tuple(args.crop), stride=tuple(args.stride))


def run_mode(mode: str, model, cfg, args: argparse.Namespace) -> tuple[str, float, str]:
    """(what ran per image, seconds per step, peak memory) of one mode."""
    if mode == "tta":  # with the config's own test_cfg, as tools/test.py --tta
        tta_model, pipeline = tta_config(args)
        batch = make_batch(pipeline, args)
        wrapped = MODELS.build(dict(tta_model, module=model))
        seconds, memory = time_steps(wrapped, batch, args)
        return f"{len(batch['inputs'])} views, {model.test_cfg['mode']}", seconds, memory
    batch = make_batch(cfg.test_dataloader.dataset.pipeline, args)
    own_test_cfg = model.test_cfg
    calls = []
    if mode == "whole":
        model.test_cfg = dict(mode="whole")
    else:
        model.test_cfg = slide_cfg(model, args)
        model.encode_decode = lambda x: calls.append(1) or type(model).encode_decode(model, x)
    try:
        seconds, memory = time_steps(model, batch, args)
    finally:
        model.__dict__.pop("encode_decode", None)
        window, model.test_cfg = model.test_cfg, own_test_cfg
    if mode == "whole":
        return "1 forward", seconds, memory
    windows = len(calls) // (args.steps + args.warmup)
    crop, stride = ("x".join(map(str, window[k])) for k in ("crop_size", "stride"))
    print(f"slide: {windows} windows per image (crop {crop}, stride {stride})")
    return f"{windows} windows", seconds, memory


def cpu_name() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    return "CPU"


def to_channels_last(module, inputs: tuple) -> tuple:
    return (inputs[0].contiguous(memory_format=torch.channels_last), *inputs[1:])


def run(args: argparse.Namespace) -> list[tuple]:
    check_args(args)
    cfg = load_config(args.config, args.cfg_options)
    model = init_model(cfg, args.checkpoint, device=args.device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
        model.backbone.register_forward_pre_hook(to_channels_last)
    print("command: python " + " ".join(sys.argv))
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else cpu_name()
    print(
        f"device: {args.device} ({name}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, amp {args.amp}, "
        f"channels_last {args.channels_last}, size {args.size[0]}x{args.size[1]}, "
        f"batch {args.batch}, {args.steps} steps after {args.warmup}"
    )
    rows = []
    for mode in args.modes:
        what, seconds, memory = run_mode(mode, model, cfg, args)
        rows.append((mode, what, args.batch / seconds, 1000 * seconds / args.batch, memory))
        print(f"{mode}: {rows[-1][2]:.3f} images/s", flush=True)
    memory = "max allocated" if args.device.startswith("cuda") else "RSS increase"
    print(f"\n| mode | per image | images/s | ms/image | peak memory (MiB, {memory}) |")
    print("| --- | --- | --- | --- | --- |")
    for mode, what, ips, ms, memory in rows:
        print(f"| {mode} | {what} | {ips:.3f} | {ms:.1f} | {memory} |")
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    keep_freed_memory()  # as tools/test.py
    register_all_modules()
    with exit_on_input_error():
        run(args)


if __name__ == "__main__":
    main()
