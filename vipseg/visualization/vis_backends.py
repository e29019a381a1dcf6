"""A Weights & Biases backend that logs against the training iteration and works offline."""

import os

from mmengine.visualization.vis_backend import WandbVisBackend, force_init_env

from vipseg.registry import VISBACKENDS


@VISBACKENDS.register_module()
class SegWandbVisBackend(WandbVisBackend):
    """W&B backend: one run per training run, scalars and images at the Runner's iteration.

    Differences from mmengine's ``WandbVisBackend``, each a reported failure of it:

    - ``step`` is passed to ``wandb.log``. mmengine drops it, so W&B counts one step per call
      and train losses, val metrics and panels land at unrelated x positions.
    - The run is offline unless asked otherwise: ``init_kwargs['mode']``, else the
      ``WANDB_MODE`` environment variable, else ``'offline'``. An online run with no network
      or no API key would stop training at start-up; an offline run is written under the
      work dir (``vis_data/wandb/offline-run-*``) and uploaded later with ``wandb sync DIR``.
    - The code is not uploaded as an artifact unless ``log_code``: mmengine snapshots every
      ``.py`` file below the working directory on each run.

    Args:
        save_dir: the run folder goes here (the Runner passes ``<work_dir>/<time>/vis_data``).
        init_kwargs: keyword arguments of ``wandb.init``, e.g. ``dict(project='minicity',
            name='r101-lovasz')``; ``project`` defaults to ``'vipseg'``.
        define_metric_cfg: ``wandb.define_metric`` settings, e.g. ``{'mIoU': 'max'}``.
        log_code: upload the code as an artifact with the config.
    """

    def __init__(
        self,
        save_dir: str,
        init_kwargs: dict | None = None,
        define_metric_cfg: dict | list | None = None,
        log_code: bool = False,
    ):
        kwargs = dict(init_kwargs or {})
        kwargs.setdefault("project", "vipseg")
        kwargs.setdefault("mode", os.environ.get("WANDB_MODE", "offline"))
        super().__init__(save_dir, init_kwargs=kwargs, define_metric_cfg=define_metric_cfg)
        self.log_code = log_code

    def _init_env(self) -> None:
        try:
            import wandb  # noqa: F401  (optional dependency)
        except ImportError as err:
            raise ImportError(
                "W&B logging (visualizer.wandb=True) needs wandb: pip install wandb"
            ) from err
        super()._init_env()

    @force_init_env
    def add_config(self, config, **kwargs) -> None:
        """Record the whole config as the run's W&B config."""
        self._wandb.config.update(config.to_dict(), allow_val_change=True)
        if self.log_code:
            self._wandb.run.log_code(name=self._log_code_name)

    @force_init_env
    def add_image(self, name: str, image, step: int = 0, **kwargs) -> None:
        """Record an RGB ``image`` at iteration ``step``."""
        self._wandb.log({name: self._wandb.Image(image)}, step=step)

    @force_init_env
    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        """Record one scalar at iteration ``step``."""
        self._wandb.log({name: value}, step=step)

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path=None, **kwargs) -> None:
        """Record several scalars at iteration ``step``."""
        self._wandb.log(dict(scalar_dict), step=step)
