"""Crash-safe checkpoints and exact resumption."""

import os.path as osp
import random

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from vipseg.engine.checkpoint_io import ATOMIC_BACKEND, atomic_write
from vipseg.registry import HOOKS


def rng_state() -> dict:
    """Every generator the training step draws from, as plain data and tensors."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return dict(
        torch=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        numpy=(name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        python=random.getstate(),
    )


def set_torch_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def model_is_finite(model: torch.nn.Module) -> bool:
    tensors = [t for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()]
    if not tensors:
        return True
    # One read-back for the whole model, not one per tensor.
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


@HOOKS.register_module()
class SegCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` made crash-safe (docs/reliability.md).

    - Every file (``iter_N.pth``, ``best_*.pth``, the ``last_checkpoint`` pointer) is written
      atomically: a temporary file in the same folder, fsync, rename. The pointer moves only
      after its checkpoint is complete; outdated checkpoints (``max_keep_ckpts``) and the
      previous best are deleted only after the new file exists.
    - A model with a non-finite weight or buffer is never saved (an error is logged).
    - Checkpoints carry the RNG states. On resume the torch (and CUDA) generators are restored
      just before the first resumed step, after mmengine has replayed the data loader (which
      re-creates the data side's numpy/random draws), so a resumed run continues the very
      random stream of an uninterrupted one.
    - mmengine saves a checkpoint before the validation of the same iteration, so the
      checkpoint lacks that validation's best-score record. When the resumed checkpoint's
      iteration was a validation iteration, that validation runs again before training goes
      on (same weights, same score), restoring the record and the ``best`` file.

    Args: as ``CheckpointHook``'s (``interval``, ``by_epoch``, ``save_best``,
    ``max_keep_ckpts``, ``save_last``, ...); ``backend_args`` defaults to the atomic local
    backend.
    """

    def __init__(
        self,
        interval: int = -1,
        by_epoch: bool = True,
        save_best: str | list | None = None,
        max_keep_ckpts: int = -1,
        save_last: bool = True,
        rule: str | list | None = None,
        out_dir: str | None = None,
        backend_args: dict | None = None,
        **kwargs,
    ):
        super().__init__(
            interval=interval,
            by_epoch=by_epoch,
            save_best=save_best,
            max_keep_ckpts=max_keep_ckpts,
            save_last=save_last,
            rule=rule,
            out_dir=out_dir,
            backend_args=backend_args or dict(backend=ATOMIC_BACKEND),
            **kwargs,
        )
        self._resumed_rng: dict | None = None

    # -- saving ------------------------------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint["rng_state"] = rng_state()

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not model_is_finite(runner.model):
            runner.logger.error(f"not saving checkpoint {step}: the model has non-finite values")
            return
        name = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, name)
        runner.message_hub.update_info("last_ckpt", self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            name,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )
        if is_main_process():
            atomic_write(osp.join(runner.work_dir, "last_checkpoint"), self.last_ckpt.encode())
        self._drop_outdated(runner, step)

    def _drop_outdated(self, runner, step: int) -> None:
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            return
        self.keep_ckpt_ids.append(step)
        while len(self.keep_ckpt_ids) > self.max_keep_ckpts:
            old = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft())
            )
            if is_main_process() and self.file_backend.isfile(old):
                self.file_backend.remove(old)
        runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """Save ``best_<key>_iter_N.pth`` for each key that improved; the previous best file
        is deleted only after the new one is written (mmengine deletes it first)."""
        if not self.save_best:
            return
        if not model_is_finite(runner.model):
            runner.logger.error("not saving a best checkpoint: the model has non-finite values")
            return
        step = runner.epoch if self.by_epoch else runner.iter
        if "auto" in self.key_indicators:
            self._init_rule(self.rules, [next(iter(metrics))])
        single = len(self.key_indicators) == 1
        for key, rule in zip(self.key_indicators, self.rules):
            score_key = "best_score" if single else f"best_score_{key}"
            path_key = "best_ckpt" if single else f"best_ckpt_{key}"
            best = runner.message_hub.runtime_info.get(score_key, self.init_value_map[rule])
            score = metrics[key]
            if score is None or not self.is_better_than[key](score, best):
                continue
            runner.message_hub.update_info(score_key, score)
            name = f"best_{key}_{self.filename_tmpl.format(step)}".replace("/", "_")
            path = self.file_backend.join_path(self.out_dir, name)
            previous = self.best_ckpt_path if single else self.best_ckpt_path_dict[key]
            runner.save_checkpoint(
                self.out_dir,
                filename=name,
                file_client_args=self.file_client_args,
                save_optimizer=False,
                save_param_scheduler=False,
                meta=dict(epoch=runner.epoch, iter=runner.iter),
                by_epoch=False,
                backend_args=self.backend_args,
            )
            if single:
                self.best_ckpt_path = path
            else:
                self.best_ckpt_path_dict[key] = path
            runner.message_hub.update_info(path_key, path)
            if previous and previous != path and is_main_process():
                if self.file_backend.isfile(previous):
                    self.file_backend.remove(previous)
            runner.logger.info(f"The best checkpoint with {score:0.4f} {key} is saved to {name}")

    # -- resuming ----------------------------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._resumed_rng = checkpoint.get("rng_state") if runner._resume else None
        self._revalidate = runner._resume

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if not getattr(self, "_revalidate", False):
            return
        self._revalidate = False
        if self._resumed_rng is not None:
            set_torch_rng_state(self._resumed_rng)
        loop = runner.train_loop
        interval = getattr(loop, "val_interval", 0)
        at_val = runner.val_loop is not None and interval and runner.iter % interval == 0
        if at_val and runner.iter >= getattr(loop, "val_begin", 1):
            runner.logger.info(f"re-running the validation of iteration {runner.iter}")
            runner.val_loop.run()
            runner.model.train()
