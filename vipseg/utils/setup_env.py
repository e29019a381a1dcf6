"""Process-wide set-up the tools call once before building anything from a config."""

import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every vipseg module so its registry entries exist, and set the default scope.

    Also makes every local checkpoint load with ``torch.load(weights_only=True)`` (refusing,
    with one clear error, any pickle that asks for more) and allowlists the plain-data globals
    mmengine writes into checkpoints, so they resume.
    """
    import vipseg.datasets  # noqa: F401
    import vipseg.engine  # noqa: F401
    import vipseg.evaluation  # noqa: F401
    import vipseg.generative  # noqa: F401
    import vipseg.models  # noqa: F401
    import vipseg.postprocess  # noqa: F401
    import vipseg.visualization  # noqa: F401
    from vipseg.engine.checkpoint import allowlist_checkpoint_globals
    from vipseg.engine.checkpoint_io import register_safe_loader

    allowlist_checkpoint_globals()
    register_safe_loader()
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance("vipseg", scope_name="vipseg")
    elif current.scope_name != "vipseg":
        # A second scope would make registry look-ups ambiguous; a fresh instance wins.
        warnings.warn(
            f"The current default scope {current.scope_name!r} is not 'vipseg'; "
            "a new 'vipseg' scope instance is created and becomes current.",
            stacklevel=2,
        )
        DefaultScope.get_instance(f"vipseg-{datetime.datetime.now()}", scope_name="vipseg")
