"""Errors about the user's input (data, configs), which the tools print without a traceback.

Each message names the file or config key and says what to do. They subclass the built-in
error a caller would expect (``FileNotFoundError``, ``ValueError``) so plain ``except``
clauses keep working.
"""

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class InputError(Exception):
    """Bad user input; ``tools/*.py`` print the message and exit with status 2."""


class MissingDataError(InputError, FileNotFoundError):
    """A data root, split, image or label file that is not there."""


class DataError(InputError, ValueError):
    """A file that is there but unusable: undecodable, wrong size, bad label values."""


class ConfigError(InputError, ValueError):
    """A config key or value that cannot work, such as an unregistered ``type``."""


class TrainingError(RuntimeError):
    """A run that cannot go on, e.g. a non-finite loss; the tools print it and exit with 3."""


def make_out_dir(path: str, option: str = "--out-dir") -> None:
    """Create a tool's output folder; failing, one ConfigError naming the option and path."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{option} {path} cannot be created: {error.strerror}") from error


def last_line(error: BaseException) -> str:
    """The message of an error, without the worker traceback DataLoader prepends.

    A DataLoader worker's error arrives as its traceback text, ending in
    ``package.module.DataError: message``; the class path is dropped too.
    """
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return re.sub(r"^[\w.]+Error: ", "", lines[-1])


@contextmanager
def exit_on_input_error() -> Iterator[None]:
    """For the tools' ``main``: an :class:`InputError` inside becomes one line on stderr,
    ``vipseg: error: <message>``, and exit status 2, with no traceback; a
    :class:`TrainingError` the same with status 3."""
    try:
        yield
    except InputError as error:
        print(f"vipseg: error: {last_line(error)}", file=sys.stderr)
        sys.exit(2)
    except TrainingError as error:
        print(f"vipseg: error: {last_line(error)}", file=sys.stderr)
        sys.exit(3)
