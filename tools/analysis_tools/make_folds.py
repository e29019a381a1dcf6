"""K folds of a config's labelled splits, stratified by class presence, one config per fold:
python tools/analysis_tools/make_folds.py CONFIG --folds K --out-dir DIR [options].

The images of ``--splits`` (default train and val) are pooled and split into K folds by
iterative stratification (vipseg/datasets/folds.py), so every class, rare ones included, is
spread evenly over the folds. Writes ``DIR/fold{k}_train.txt`` / ``DIR/fold{k}_val.txt`` (split
files, see ``BaseSegDataset``'s ``ann_file``) and ``DIR/fold{k}.py``, a config that trains on
the other folds and validates on fold k: ``python tools/train.py DIR/fold0.py``. See
docs/folds.md.
"""

import argparse
import os
import os.path as osp
import sys

import numpy as np
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from vipseg.datasets.folds import (  # noqa: E402
    fold_label_counts,
    iterative_stratification,
    max_deviation,
    random_folds,
)
from vipseg.datasets.label_stats import (  # noqa: E402
    SPLITS,
    build_split_dataset,
    class_pixel_counts,
)
from vipseg.utils import (  # noqa: E402
    ConfigError,
    DataError,
    DictAction,
    exit_on_input_error,
    load_config,
    register_all_modules,
)

LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
PREFIX_KEYS = ("img_path", "seg_map_path", "instance_map_path")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Stratified K-fold split files and configs")
    parser.add_argument("config")
    parser.add_argument("--folds", type=int, required=True, help="number of folds K")
    parser.add_argument("--out-dir", required=True, help="where split files and configs go")
    parser.add_argument("--splits", nargs="+", default=["train", "val"], help="splits to pool")
    parser.add_argument(
        "--min-pixels", type=int, default=1, help="pixels for a class to count as present"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of tie-breaking (%(default)s)")
    parser.add_argument("--data-root", help="override the data root (written into the configs)")
    parser.add_argument("--workers", type=int, default=0, help="processes reading label maps")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def unwrap(loader_cfg: dict) -> tuple[dict, int]:
    """The dataset config that reads files, and how many wrappers hold it."""
    dataset, depth = loader_cfg["dataset"], 0
    while "dataset" in dataset:
        dataset, depth = dataset["dataset"], depth + 1
    return dataset, depth


def common_layout(cfg: Config, splits: list[str]) -> tuple[dict, dict]:
    """The common parent of each data_prefix folder over the splits, and each split's folder
    under it, which must be the same for images and label maps (so one stem names both).

    Args:
        cfg: the loaded config.
        splits: split names, e.g. ``["train", "val"]``.
    """
    for split in splits:
        if cfg.get(f"{split}_dataloader") is None or "dataset" not in cfg[f"{split}_dataloader"]:
            raise ConfigError(f"the config has no {split}_dataloader.dataset")
    prefixes = [unwrap(cfg[f"{split}_dataloader"])[0]["data_prefix"] for split in splits]
    parents, rels = {}, {split: {} for split in splits}
    for key in PREFIX_KEYS:
        have = [key in prefix for prefix in prefixes]
        if not any(have):
            continue
        if not all(have):
            raise ConfigError(f"data_prefix.{key} is set for some of splits {splits}, not all")
        folders = [osp.normpath(prefix[key]) for prefix in prefixes]
        try:
            parents[key] = osp.commonpath(folders) or "."  # "": the data root itself
        except ValueError as error:  # absolute and relative folders mixed
            raise ConfigError(f"data_prefix.{key} folders {folders}: {error}") from None
        for split, folder in zip(splits, folders):
            rels[split][key] = osp.relpath(folder, parents[key])
    for split in splits:
        if len(set(rels[split].values())) > 1:
            raise ConfigError(
                f"{split}_dataloader.dataset.data_prefix: images and label maps are laid out "
                f"differently under {parents} ({rels[split]}); one stem cannot name both"
            )
    return parents, {split: rels[split]["img_path"] for split in splits}


def pooled_stems(datasets: dict, rels: dict) -> list[str]:
    """Stems of the images of all splits, relative to the common image folder."""
    stems, seen = [], {}
    for split, ds in datasets.items():
        img_dir = ds.data_prefix["img_path"]
        for i in range(len(ds)):
            path = ds.get_data_info(i)["img_path"]
            rel = osp.relpath(path, img_dir)[: -len(ds.img_suffix)]
            stem = osp.normpath(osp.join(rels[split], rel)).replace(osp.sep, "/")
            if stem in seen:
                raise DataError(f"image {path} is in both splits {seen[stem]} and {split}")
            seen[stem] = split
            stems.append(stem)
    return stems


def _src(value) -> str:
    """Python source of a config value: dicts as ``dict(...)``, the rest as repr."""
    if isinstance(value, dict):
        return "dict(" + ", ".join(f"{key}={_src(val)}" for key, val in value.items()) + ")"
    return repr(value)


def fold_config(cfg: Config, fold: int, parents: dict, files: dict, data_root: str | None) -> str:
    """Source of the config of one fold: the original with its datasets on the split files.

    Args:
        cfg: the loaded config.
        fold: fold index.
        parents: common data_prefix folders.
        files: ``{'train': path, 'val': path}`` absolute split files of this fold.
        data_root: data root to pin (from --data-root), or None to keep the config's.
    """
    stem = osp.splitext(osp.basename(cfg.filename))[0]
    lines = [
        f"# Fold {fold} of {stem}, made by tools/analysis_tools/make_folds.py: trains on the",
        "# other folds and validates (and tests) on this one.",
        f"_base_ = {osp.abspath(cfg.filename)!r}",
        f"work_dir = {f'work_dirs/{stem}/fold{fold}'!r}",
    ]
    for loader in LOADERS:
        if cfg.get(loader) is None or "dataset" not in cfg[loader]:
            continue
        depth = unwrap(cfg[loader])[1]
        dataset = dict(data_prefix=dict(_delete_=True, **parents))
        dataset["ann_file"] = files["train" if loader == "train_dataloader" else "val"]
        if data_root:
            dataset["data_root"] = osp.abspath(data_root)
        for _ in range(depth):  # the same nesting as the wrappers in the original
            dataset = dict(dataset=dataset)
        lines.append(f"{loader} = {_src(dict(dataset=dataset))}")
    return "\n".join(lines) + "\n"


def write_folds(
    args: argparse.Namespace, cfg: Config, stems: list[str], folds: np.ndarray, parents: dict
) -> None:
    """``fold{k}_train.txt``, ``fold{k}_val.txt`` and ``fold{k}.py`` under ``args.out_dir``."""
    out_dir = osp.abspath(args.out_dir)
    os.makedirs(out_dir, exist_ok=True)
    for fold in range(args.folds):
        files = {}
        for part, members in (("train", folds != fold), ("val", folds == fold)):
            files[part] = osp.join(out_dir, f"fold{fold}_{part}.txt")
            with open(files[part], "w") as f:
                f.writelines(f"{stem}\n" for stem, keep in zip(stems, members) if keep)
        with open(osp.join(out_dir, f"fold{fold}.py"), "w") as f:
            f.write(fold_config(cfg, fold, parents, files, args.data_root))


def print_balance(classes: list[str], labels: np.ndarray, folds: np.ndarray, seed: int) -> None:
    """Images per fold and per class and fold, with the largest deviation from the ideal
    share, next to that of a seeded random split of the same images."""
    k = int(folds.max()) + 1
    baseline = random_folds(len(labels), k, seed)
    rows = np.concatenate([np.ones((len(labels), 1), bool), labels], axis=1)
    counts = fold_label_counts(rows, folds, k)
    dev, rand_dev = max_deviation(rows, folds, k), max_deviation(rows, baseline, k)
    width = max(len(name) for name in ["(images)", *classes])
    head = "".join(f"{f'fold{j}':>7}" for j in range(k))
    print(
        "images of each fold that contain each class; ideal: total / K; dev: largest "
        "|fold - ideal|; random: dev of a random split of the same images (same seed)"
    )
    print(f"{'class':<{width}} {'total':>6}{head} {'ideal':>7} {'dev':>5} {'random':>7}")
    for i, name in enumerate(["(images)", *classes]):
        cells = "".join(f"{c:>7}" for c in counts[:, i])
        total = counts[:, i].sum()
        print(
            f"{name:<{width}} {total:>6}{cells} {total / k:>7.1f} "
            f"{dev[i]:>5.1f} {rand_dev[i]:>7.1f}"
        )
    print(
        f"largest deviation from the ideal share over classes: {dev[1:].max():.1f} "
        f"(random split: {rand_dev[1:].max():.1f}); summed over classes: {dev[1:].sum():.1f} "
        f"(random split: {rand_dev[1:].sum():.1f})"
    )


def check_same_kind(cfg: Config, datasets: dict) -> None:
    """One dataset type, suffix and root for the pooled splits and every loader the fold
    configs point at the split files, since one stem must name the same file everywhere."""
    kinds = {(type(ds).__name__, ds.img_suffix, ds.data_root) for ds in datasets.values()}
    if len(kinds) > 1:
        raise ConfigError(
            f"splits {list(datasets)} differ in dataset type, suffix or root: {kinds}"
        )
    kind = kinds.pop()[0]
    for loader in LOADERS:
        if cfg.get(loader) is not None and "dataset" in cfg[loader]:
            other = str(unwrap(cfg[loader])[0].get("type")).split(".")[-1]
            if other != kind:
                raise ConfigError(f"{loader}.dataset.type is {other!r}, the splits' is {kind!r}")


def make_folds(args: argparse.Namespace) -> None:
    if args.min_pixels < 1:
        raise ConfigError(f"--min-pixels must be at least 1, got {args.min_pixels}")
    unknown = [split for split in args.splits if split not in SPLITS]
    if unknown:
        raise ConfigError(f"--splits: unknown split {unknown[0]!r}; choose from {SPLITS}")
    if len(set(args.splits)) != len(args.splits):
        raise ConfigError(f"--splits repeats a split: {args.splits}")
    cfg = load_config(args.config, args.cfg_options)
    # The layout is checked first: a mismatch would otherwise surface as a missing label file.
    parents, rels = common_layout(cfg, args.splits)
    datasets = {s: build_split_dataset(cfg, s, args.data_root) for s in args.splits}
    check_same_kind(cfg, datasets)
    stems = pooled_stems(datasets, rels)
    if args.folds < 2 or args.folds > len(stems):
        raise ConfigError(
            f"--folds must be between 2 and the {len(stems)} images of splits "
            f"{', '.join(args.splits)}; got {args.folds}"
        )
    counts = [class_pixel_counts(ds, args.workers) for ds in datasets.values()]
    labels = np.concatenate(counts) >= args.min_pixels
    folds = iterative_stratification(labels, args.folds, args.seed)
    write_folds(args, cfg, stems, folds, parents)
    classes = list(next(iter(datasets.values())).metainfo["classes"])
    print_balance(classes, labels, folds, args.seed)
    out_dir = osp.abspath(args.out_dir)
    last = osp.join(out_dir, f"fold{args.folds - 1}.py")
    print(f"wrote {args.folds} folds to {out_dir}; cross-validate with one run per fold:")
    print(f"python tools/train.py {osp.join(out_dir, 'fold0.py')}  # ... up to {last}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    register_all_modules()
    with exit_on_input_error():  # bad data or config: one line, exit 2
        make_folds(args)


if __name__ == "__main__":
    main()
