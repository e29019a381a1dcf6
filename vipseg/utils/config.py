"""Loading configs for the tools: overrides, data roots, and a check of every ``type``."""

import os.path as osp
from collections.abc import Iterator

from mmengine.config import Config, DictAction

from vipseg import registry as vr

from .errors import ConfigError, MissingDataError

__all__ = [
    "DictAction",
    "check_config_types",
    "load_config",
    "replace_annotations",
    "set_data_root",
]

DATALOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")

# (key path pattern, registry): '*' matches one key or list index, the first match wins.
_RULES = (
    (("model", "**", "init_cfg"), vr.WEIGHT_INITIALIZERS),
    (("model", "**"), vr.MODELS),
    # GAN configs (configs/generative/)
    (("generator",), vr.MODELS),
    (("discriminator",), vr.MODELS),
    (("model_wrapper_cfg",), vr.MODEL_WRAPPERS),
    (("*_dataloader", "dataset", "pipeline", "*"), vr.TRANSFORMS),
    # A dataset wrapper (RareClassSampling) and the dataset it wraps.
    (("*_dataloader", "dataset", "dataset", "pipeline", "*"), vr.TRANSFORMS),
    (("*_dataloader", "dataset", "dataset"), vr.DATASETS),
    # RealSyntheticMix's synthetic split
    (("*_dataloader", "dataset", "synthetic", "pipeline", "*"), vr.TRANSFORMS),
    (("*_dataloader", "dataset", "synthetic"), vr.DATASETS),
    (("*_dataloader", "dataset"), vr.DATASETS),
    (("*_dataloader", "sampler"), vr.DATA_SAMPLERS),
    (("*_dataloader", "collate_fn"), vr.FUNCTIONS),
    (("*_evaluator", "**"), vr.METRICS),
    (("default_hooks", "*"), vr.HOOKS),
    (("custom_hooks", "*"), vr.HOOKS),
    (("visualizer", "vis_backends", "*"), vr.VISBACKENDS),
    (("vis_backends", "*"), vr.VISBACKENDS),
    (("visualizer",), vr.VISUALIZERS),
    (("optim_wrapper", "optimizer"), vr.OPTIMIZERS),
    (("optim_wrapper",), vr.OPTIM_WRAPPERS),
    (("param_scheduler", "**"), vr.PARAM_SCHEDULERS),
    (("train_cfg",), vr.LOOPS),
    (("val_cfg",), vr.LOOPS),
    (("test_cfg",), vr.LOOPS),
    (("log_processor",), vr.LOG_PROCESSORS),
)


def load_config(path: str, cfg_options: dict | None = None) -> Config:
    """Read a config file and merge ``--cfg-options`` into it."""
    if not osp.isfile(path):
        raise MissingDataError(f"config file {path} does not exist")
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point the datasets of every data loader at ``data_root`` (inside wrappers too)."""
    for name in DATALOADERS:
        if cfg.get(name) is not None:
            dataset = cfg[name]["dataset"]
            # A wrapper (e.g. RareClassSampling) holds the dataset that reads files.
            while "dataset" in dataset:
                dataset = dataset["dataset"]
            dataset["data_root"] = data_root


def _match(pattern: tuple, path: tuple) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    head, key = pattern[0], str(path[0])
    ok = head == key or head == "*" or (head.startswith("*") and key.endswith(head[1:]))
    return ok and _match(pattern[1:], path[1:])


def _typed_nodes(node, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield path, node["type"]
        for key, value in node.items():
            yield from _typed_nodes(value, path + (key,))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield from _typed_nodes(value, path + (i,))


def check_config_types(cfg: Config) -> None:
    """Raise :class:`ConfigError` naming the key of the first ``type`` no registry knows.

    Registries are imported lazily by mmengine deep inside the Runner; checking up front
    turns a traceback from there into one message with the key path and the known names.
    """
    for path, name in _typed_nodes(cfg.to_dict()):
        registry = next((reg for pattern, reg in _RULES if _match(pattern, path)), None)
        if registry is None or "." in name:  # scoped names such as 'mmengine.X' resolve later
            continue
        if isinstance(registry, vr.VipsegRegistry):
            known = name in registry
            names = set(registry.module_dict) | set(registry.parent.module_dict)
        else:
            known = registry.get(name) is not None
            names = set(registry.module_dict)
        if not known:
            key = ".".join(map(str, path + ("type",)))
            raise ConfigError(
                f"config {cfg.filename}: {key}={name!r} is not a registered {registry.name}. "
                f"Known: {', '.join(sorted(names))}"
            )


def replace_annotations(pipeline: list, load: dict | None) -> list:
    """``pipeline`` with every ``LoadAnnotations`` step, also inside ``TestTimeAug``'s nested
    branches, replaced by ``load`` (e.g. the test pipeline's own), or dropped if it is None."""
    out = []
    for step in pipeline:
        if isinstance(step, list):
            out.append(replace_annotations(step, load))
        elif step.get("type") == "LoadAnnotations":
            if load is not None:
                out.append(dict(load))
        else:
            if "transforms" in step:
                step = dict(step, transforms=replace_annotations(step["transforms"], load))
            out.append(step)
    return [step for step in out if step != []]  # a TTA branch left empty
