"""A progress bar with ETA over the test (and optionally validation) loop."""

from mmengine.hooks import Hook

from vipseg.registry import HOOKS
from vipseg.utils.progress import ProgressBar


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Shows a :class:`~vipseg.utils.ProgressBar` while the test loop runs (everything in it:
    TTA, CRF, metrics, export), and while validation runs if ``val``.

    ``tools/test.py`` adds it and, on a terminal, quiets the per-iteration log lines it
    replaces. Only the main process draws.

    Args:
        val: also during validation in training.
    """

    priority = "LOW"

    def __init__(self, val: bool = False):
        self.val = val
        self._bar: ProgressBar | None = None

    def _start(self, runner, description: str, dataloader) -> None:
        self._bar = ProgressBar(len(dataloader), description, log=runner.logger.info)

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _stop(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def before_test_epoch(self, runner) -> None:
        self._start(runner, "test", runner.test_dataloader)

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._stop()

    def before_val_epoch(self, runner) -> None:
        if self.val:
            self._start(runner, "val", runner.val_dataloader)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._stop()
