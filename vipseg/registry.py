"""Registries of vipseg: children of mmengine's root registries, scope ``vipseg``.

Each registry's contract (what a registered entry must be) is in its ``doc`` line below. A
config's ``type`` key names an entry; building an unknown name raises a ``KeyError`` that lists
the names that exist.
"""

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
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
    ["vipseg.models", "vipseg.postprocess", "vipseg.generative"],
    "an nn.Module: backbone, neck, decode head, loss, segmentor, data preprocessor, "
    "post-processor (e.g. DenseCRF) or GAN network (SPADEGenerator, SinGAN)",
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

# Runner infrastructure: vipseg registers little of its own here; the children exist so
# the Runner resolves these names inside the ``vipseg`` scope, falling back to mmengine's.
LOOPS = VipsegRegistry("loop", MMENGINE_LOOPS, [], "an mmengine BaseLoop: train, val or test")
DATA_SAMPLERS = VipsegRegistry(
    "data sampler", MMENGINE_DATA_SAMPLERS, [], "a torch Sampler of dataset indices"
)
FUNCTIONS = VipsegRegistry("function", MMENGINE_FUNCTIONS, [], "a function, e.g. a collate_fn")
MODEL_WRAPPERS = VipsegRegistry(
    "model_wrapper", MMENGINE_MODEL_WRAPPERS, [], "a wrapper such as DistributedDataParallel"
)
OPTIMIZERS = VipsegRegistry("optimizer", MMENGINE_OPTIMIZERS, [], "a torch Optimizer")
OPTIM_WRAPPERS = VipsegRegistry(
    "optim_wrapper",
    MMENGINE_OPTIM_WRAPPERS,
    ["vipseg.engine"],
    "an mmengine OptimWrapper (AMP, clipping)",
)
OPTIM_WRAPPER_CONSTRUCTORS = VipsegRegistry(
    "optimizer wrapper constructor",
    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    [],
    "builds an OptimWrapper from a model and a config (per-parameter settings)",
)
PARAM_SCHEDULERS = VipsegRegistry(
    "parameter scheduler", MMENGINE_PARAM_SCHEDULERS, [], "an mmengine LR/momentum scheduler"
)
WEIGHT_INITIALIZERS = VipsegRegistry(
    "weight initializer", MMENGINE_WEIGHT_INITIALIZERS, [], "an init_cfg weight initializer"
)
LOG_PROCESSORS = VipsegRegistry(
    "log_processor", MMENGINE_LOG_PROCESSORS, ["vipseg.engine"], "formats the Runner's logs"
)
