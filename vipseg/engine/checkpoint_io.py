"""Crash-safe checkpoint files: atomic writes, safe loading, finding the latest complete one."""

import os
import os.path as osp
import pickle
import re
import tempfile
import zipfile

import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader

from vipseg.utils.errors import DataError, MissingDataError

ATOMIC_BACKEND = "vipseg_atomic_local"


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always either the old or the new file.

    The bytes go to a temporary file in the same folder (a rename is atomic only within one
    file system), are fsynced, and the file is renamed over ``path``; the folder is fsynced
    so the rename itself survives a power loss. A kill at any point leaves at most a stray
    ``.tmp`` file, never a truncated ``path``.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{osp.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` is :func:`atomic_write`.

    Checkpoint hooks select it with ``backend_args=dict(backend='vipseg_atomic_local')``.
    """

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(str(filepath), obj)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file: its zip directory is readable.

    A file cut short loses the zip's central directory at its end, so this catches a
    truncated copy without unpickling anything.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def find_latest_checkpoint(work_dir: str) -> str | None:
    """The checkpoint ``--resume`` continues from: ``last_checkpoint``'s target if complete,
    else the complete ``iter_N.pth`` / ``epoch_N.pth`` with the largest N, else None."""
    pointer = osp.join(work_dir, "last_checkpoint")
    if osp.isfile(pointer):
        with open(pointer) as f:
            target = f.read().strip()
        if target and is_complete_checkpoint(target):
            return target
    numbered = []
    for name in os.listdir(work_dir) if osp.isdir(work_dir) else []:
        match = re.fullmatch(r"(iter|epoch)_(\d+)\.pth", name)
        if match:
            numbered.append((int(match.group(2)), osp.join(work_dir, name)))
    for _, path in sorted(numbered, reverse=True):
        if is_complete_checkpoint(path):
            return path
    return None


def safe_load(filename: str, map_location=None):
    """``torch.load(weights_only=True)`` (plus vipseg's allowlist); a checkpoint whose pickle
    asks for anything else is refused with one :class:`DataError` and nothing of it runs."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise MissingDataError(f"checkpoint {filename} does not exist")
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message is a paragraph; the line naming the refused global is what matters.
        lines = [
            ln.strip() for ln in str(error).splitlines() if "GLOBAL" in ln or "Unsupported" in ln
        ]
        detail = lines[0].rstrip(".") if lines else "an object torch does not allow"
        raise DataError(
            f"checkpoint {filename} was refused: it needs more than tensors and plain data "
            f"({detail}). vipseg loads checkpoints with weights_only=True and never runs code "
            "from them; re-save the weights from a trusted source with torch.save(state_dict)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile) as error:
        if is_complete_checkpoint(filename):
            raise  # a whole file that fails for another reason (e.g. map_location)
        raise DataError(
            f"checkpoint {filename} cannot be read (truncated or not a torch file): {error}"
        ) from None


def register_safe_loader() -> None:
    """Make mmengine's loader for local paths (``load_from``, ``--resume``, ``init_model``,
    ``init_cfg`` checkpoints) :func:`safe_load`."""
    CheckpointLoader.register_scheme(prefixes="", loader=safe_load, force=True)
