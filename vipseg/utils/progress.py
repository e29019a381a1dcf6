"""Progress bars with an ETA for loops over images: testing, inference, export, CRF tuning."""

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO, TypeVar

from mmengine.dist import is_main_process

T = TypeVar("T")


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressBar:
    """``done/total`` with elapsed time and ETA, shown by the main process only.

    On a terminal it is one live ``rich`` bar; elsewhere (a log file, CI, a pipe) a bar that
    redraws would be print spam, so it writes one line per tenth of the work instead, to
    ``log`` (a Runner hook passes its logger, so the lines land in the run's log file), else
    to stderr (tools keep stdout for their results).

    Args:
        total: the number of steps.
        description: what is counted, e.g. ``'test'``.
        stream: where the terminal bar draws (default ``sys.stderr``).
        terminal: force the live bar (True) or the lines (False); default: ``stream.isatty()``.
        log: where the lines go, e.g. ``runner.logger.info``; default: print to stderr.
    """

    def __init__(
        self,
        total: int,
        description: str,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        log: Callable[[str], None] | None = None,
    ):
        if total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.total, self.description, self.done = total, description, 0
        self.log = log or _print
        self.enabled = is_main_process()
        stream = stream or sys.stderr
        self.terminal = stream.isatty() if terminal is None else terminal
        self._start = time.perf_counter()
        self._next_line = 0.1
        self._rich = self._start_rich(stream) if self.enabled and self.terminal else None

    def _start_rich(self, stream: TextIO):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(file=stream, force_terminal=True)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        columns += (TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        progress = Progress(*columns, console=console, transient=False)
        self._task = progress.add_task(self.description, total=self.total)
        progress.start()
        return progress

    def eta(self) -> float:
        """Seconds left at the average pace so far (0 when done, inf before the first step)."""
        if self.done >= self.total:
            return 0.0
        if not self.done:
            return float("inf")
        return (time.perf_counter() - self._start) / self.done * (self.total - self.done)

    def line(self) -> str:
        elapsed = _clock(time.perf_counter() - self._start)
        eta = self.eta()
        left = _clock(eta) if eta != float("inf") else "?"
        count = f"{self.done}/{self.total} ({100 * self.done // max(self.total, 1)}%)"
        return f"{self.description}: {count}, {elapsed} elapsed, ETA {left}"

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done)
        elif self.total and self.done / self.total >= self._next_line - 1e-9:
            self._next_line = (int(10 * self.done / self.total) + 1) / 10
            self.log(self.line())

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield ``items`` while a :class:`ProgressBar` counts them."""
    total = len(items) if total is None else total  # type: ignore[arg-type]
    with ProgressBar(total, description) as bar:
        for item in items:
            yield item
            bar.update()
