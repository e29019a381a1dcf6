"""Parameters and FLOPs of a config's model: python tools/analysis_tools/get_flops.py CONFIG.

Counted with mmengine's ``FlopAnalyzer`` (fvcore's counter: one "FLOP" is one fused
multiply-add, so these are MACs, the convention of most segmentation papers) on the segmentor's
tensor forward (``mode='tensor'``): backbone, neck and decode head on one image of ``--shape``,
logits left at the head's resolution. Not counted: the final resize to the input size, the
auxiliary heads (training only), the losses, and any op mmengine has no counter for (listed
after the table). SyncBN is reverted to BN first so the model runs in a single process.
"""

import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.analysis import FlopAnalyzer  # noqa: E402
from mmengine.model import revert_sync_batchnorm  # noqa: E402
from prettytable import PrettyTable  # noqa: E402

from vipseg.registry import MODELS  # noqa: E402
from vipseg.utils import DictAction, load_config, register_all_modules  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Parameters and FLOPs of a config's model")
    parser.add_argument("config")
    parser.add_argument(
        "--shape",
        type=int,
        nargs=2,
        default=[512, 1024],
        metavar=("H", "W"),
        help="input height and width (default: %(default)s)",
    )
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def count(model: torch.nn.Module, shape: tuple[int, int]) -> tuple[FlopAnalyzer, dict]:
    """The analyzer of one (1, 3, H, W) tensor forward and parameter counts per part."""
    inputs = torch.randn(1, 3, *shape)
    analyzer = FlopAnalyzer(model, (inputs,))
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    analyzer.total()  # runs the trace now, so its warnings come before the table
    params = {"model": sum(p.numel() for p in model.parameters())}
    for name, child in model.named_children():
        params[name] = sum(p.numel() for p in child.parameters())
    return analyzer, params


def table(analyzer: FlopAnalyzer, params: dict) -> PrettyTable:
    flops = analyzer.by_module()
    out = PrettyTable(["module", "params", "params (M)", "FLOPs (G)"])
    for name, n in params.items():
        if name != "model" and n == 0:
            continue  # the data preprocessor
        key = "" if name == "model" else name
        called = name == "model" or flops.get(key, 0) > 0
        gflops = f"{flops.get(key, 0) / 1e9:.2f}" if called else "not run"
        out.add_row([name, f"{n:,}", f"{n / 1e6:.2f}", gflops])
    out.align = "r"
    out.align["module"] = "l"
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
    shape = tuple(args.shape)
    with torch.no_grad():
        analyzer, params = count(model, shape)
    print(f"{args.config}: input (1, 3, {shape[0]}, {shape[1]}), mode='tensor'")
    print(table(analyzer, params))
    print(f"params: {params['model']:,}")
    print(f"FLOPs: {analyzer.total() / 1e9:.2f} G (multiply-adds)")
    skipped = analyzer.unsupported_ops()
    names = ", ".join(f"{op} x{n}" for op, n in sorted(skipped.items())) or "none"
    print(f"ops not counted: {names}")
    print("not counted by design: final resize, auxiliary heads, losses")


if __name__ == "__main__":
    main()
