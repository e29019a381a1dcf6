"""Registries of vipseg: children of mmengine's root registries, scope ``vipseg``.

Each registry's contract (what a registered entry must be) is in its ``doc`` line below. A
config's ``type`` key names an entry; building an unknown name raises a ``KeyError`` that lists
the names that exist.
"""

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry


class VipsegRegistry(Registry):
    """A :class:`mmengine.registry.Registry` whose misses name the entries that exist."""

    def __init__(self, name: str, parent: Registry, locations: list[str], doc: str):
        super().__init__(name, parent=parent, scope="vipseg", locations=locations)
        self.doc = doc

    def __contains__(self, key) -> bool:
        return super().get(key) is not None

    def get(self, key):
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            # Import the locations first so the list below is complete.
            self.import_from_location()
            own = sorted(self._module_dict)
            inherited = sorted(set(self.parent._module_dict) - set(own))
            raise KeyError(
                f"{key!r} is not registered in the vipseg {self.name!r} registry "
                f"({self.doc}). vipseg names: {', '.join(own) or '(none)'}. "
                f"Inherited from mmengine/mmcv: {', '.join(inherited) or '(none)'}"
            )
        return obj


DATASETS = VipsegRegistry(
    "dataset",
    MMENGINE_DATASETS,
    ["vipseg.datasets"],
    "a torch Dataset whose items are dicts from its `pipeline`",
)
TRANSFORMS = VipsegRegistry(
    "transform",
    MMENGINE_TRANSFORMS,
    ["vipseg.datasets.transforms"],
    "a callable mapping a results dict to a results dict; documents Required/Modified/Added keys",
)
MODELS = VipsegRegistry(
    "model",
    MMENGINE_MODELS,
    ["vipseg.models"],
    "an nn.Module: backbone, neck, decode head, loss, segmentor or data preprocessor",
)
METRICS = VipsegRegistry(
    "metric",
    MMENGINE_METRICS,
    ["vipseg.evaluation"],
    "an mmengine BaseMetric: process() per batch, compute_metrics()/evaluate() per split",
)
HOOKS = VipsegRegistry(
    "hook",
    MMENGINE_HOOKS,
    ["vipseg.engine"],
    "an mmengine Hook acting at the Runner's named points",
)
VISUALIZERS = VipsegRegistry(
    "visualizer",
    MMENGINE_VISUALIZERS,
    ["vipseg.visualization"],
    "an mmengine Visualizer that draws segmentation results",
)
VISBACKENDS = VipsegRegistry(
    "vis_backend",
    MMENGINE_VISBACKENDS,
    ["vipseg.visualization"],
    "an mmengine BaseVisBackend that stores scalars and images",
)
