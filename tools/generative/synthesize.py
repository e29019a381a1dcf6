"""Synthesize training pairs: python tools/generative/synthesize.py CONFIG --out DIR --num N.

Label maps are derived from the config's training split (flips, recombination of two scenes,
CopyBlob-style rare-class insertion; ``synthesis_cfg`` in the config) and either rendered by a
trained SPADE generator (``--mode spade --checkpoint CKPT``, the default) or kept with the
donors' real pixels pasted (``--mode copyblob``, optionally ``--harmonize`` with a SinGAN fitted
on each background). DIR receives the pairs in the source dataset's layout and manifest.json;
train on them with ``RealSyntheticMix`` (docs/generative.md).
"""

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

from vipseg.datasets import BaseSegDataset  # noqa: E402
from vipseg.engine.checkpoint_io import safe_load  # noqa: E402
from vipseg.generative.synthesis import EditPolicy, SPADERenderer, synthesize  # noqa: E402
from vipseg.registry import DATASETS, MODELS  # noqa: E402
from vipseg.utils import (  # noqa: E402
    ConfigError,
    DictAction,
    check_config_types,
    exit_on_input_error,
    load_config,
    register_all_modules,
    set_data_root,
    track,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Synthesize image/label pairs")
    parser.add_argument("config", help="a GAN config (configs/generative/) or any config")
    parser.add_argument("--out", required=True, help="new folder for the synthetic split")
    parser.add_argument("--num", type=int, required=True, help="pairs to write")
    parser.add_argument("--mode", choices=["spade", "copyblob"], default="spade")
    parser.add_argument("--checkpoint", help="train_spade.py checkpoint (mode spade)")
    parser.add_argument(
        "--harmonize", action="store_true", help="copyblob: SinGAN harmonization of pastes"
    )
    parser.add_argument("--seed", type=int, default=0, help="all random choices (%(default)s)")
    parser.add_argument("--amp", action="store_true", help="render under bf16 autocast")
    parser.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    parser.add_argument("--data-root", help="override the source dataset's data root")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config keys, e.g. synthesis_cfg.blob_prob=1.0",
    )
    return parser.parse_args(argv)


def source_dataset(cfg):
    dataset_cfg = dict(cfg.train_dataloader.dataset, pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    if not isinstance(dataset, BaseSegDataset):
        raise ConfigError(
            f"config {cfg.filename}: train_dataloader.dataset must be a plain dataset (not a "
            f"wrapper such as {type(dataset).__name__}) to synthesize from"
        )
    return dataset


def spade_renderer(cfg, checkpoint: str | None, dataset, device: str, amp: bool):
    if checkpoint is None:
        raise ConfigError("--mode spade needs --checkpoint (from tools/generative/train_spade.py)")
    render_scale = (cfg.get("gan_cfg") or {}).get("render_scale")
    if render_scale is None:
        raise ConfigError(f"config {cfg.filename}: set gan_cfg.render_scale=(w, h)")
    generator = MODELS.build(cfg.generator).to(device)
    state = safe_load(checkpoint, map_location=device)
    if "generator" not in state:
        raise ConfigError(f"checkpoint {checkpoint} holds no 'generator' (not train_spade.py's)")
    generator.load_state_dict(state["generator"])
    renderer = SPADERenderer(
        generator, generator.num_classes, dataset.ignore_index, render_scale, amp=amp
    )
    return renderer, int(state.get("iteration", -1))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    register_all_modules()
    with exit_on_input_error():
        cfg = load_config(args.config, args.cfg_options)
        if args.data_root:
            set_data_root(cfg, args.data_root)
        check_config_types(cfg)
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        settings = dict(cfg.get("synthesis_cfg") or {})
        singan_cfg = settings.pop("singan", None) or dict(type="SinGAN")
        try:
            policy = EditPolicy(**settings)
        except TypeError as error:
            raise ConfigError(f"config {cfg.filename}: synthesis_cfg: {error}") from None
        dataset = source_dataset(cfg)
        header = dict(
            config=args.config,
            source=dict(data_root=dataset.data_root, data_prefix=dict(dataset.data_prefix)),
            classes=list(dataset.metainfo["classes"]),  # what the blobs' src/dst indices name
            policy=dict(vars(policy)),
        )
        renderer = harmonizer = None
        if args.mode == "spade":
            renderer, iteration = spade_renderer(cfg, args.checkpoint, dataset, device, args.amp)
            header.update(checkpoint=args.checkpoint, generator_iteration=iteration)
        elif args.harmonize:
            from vipseg.generative.harmonize import SinGANHarmonizer

            harmonizer = SinGANHarmonizer(singan_cfg, device)
            header.update(harmonizer=singan_cfg)
        path = synthesize(
            dataset,
            args.out,
            args.num,
            policy,
            args.mode,
            seed=args.seed,
            renderer=renderer,
            harmonizer=harmonizer,
            header=header,
            progress=lambda items: track(items, "synthesize"),
        )
        print(f"vipseg: {args.num} pairs and {path}")
        print(
            "train on them: train_dataloader.dataset = dict(type='RealSyntheticMix', "
            f"dataset=<real split>, synthetic=dict(<real split>, data_root='{args.out}'), "
            "synthetic_ratio=0.25)"
        )


if __name__ == "__main__":
    main()
