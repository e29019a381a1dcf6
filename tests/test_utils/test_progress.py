"""ProgressBar: a live bar on a terminal, one line per tenth elsewhere, ETA from the pace."""

import io
import itertools

import pytest

from vipseg.utils import progress
from vipseg.utils.progress import ProgressBar, track


def test_off_a_terminal_one_line_per_tenth_of_the_work(capsys):
    assert list(track(range(25), "test")) == list(range(25))
    lines = capsys.readouterr().err.splitlines()
    counts = [int(line.split()[1].split("/")[0]) for line in lines]
    assert counts == [3, 5, 8, 10, 13, 15, 18, 20, 23, 25]  # the first step past each tenth
    assert lines[-1].startswith("test: 25/25 (100%), 0:00:00 elapsed, ETA 0:00:00")


def test_eta_is_the_average_pace_times_the_steps_left(monkeypatch):
    clock = itertools.chain([100.0], itertools.repeat(104.0))  # start, then 4 s later
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    bar = ProgressBar(10, "infer", terminal=False)
    assert bar.eta() == float("inf")  # no step yet: unknown, not zero
    bar.done = 2  # 2 steps in 4 s: 2 s a step, 8 left
    assert bar.eta() == pytest.approx(16.0)
    assert bar.line() == "infer: 2/10 (20%), 0:00:04 elapsed, ETA 0:00:16"


def test_on_a_terminal_a_live_bar_with_count_and_eta():
    stream = io.StringIO()
    with ProgressBar(5, "crf", stream=stream, terminal=True) as bar:
        for _ in range(5):
            bar.update()
    out = stream.getvalue()
    assert "crf" in out and "5/5" in out and "ETA" in out and "\r" in out  # redrawn in place


def test_only_the_main_process_draws(monkeypatch, capsys):
    monkeypatch.setattr(progress, "is_main_process", lambda: False)
    list(track(range(10), "test"))
    assert capsys.readouterr().err == ""


def test_negative_total_is_an_error():
    with pytest.raises(ValueError, match="total"):
        ProgressBar(-1, "x")


def test_lines_go_to_the_given_log_instead_of_stderr(capsys):
    lines: list[str] = []
    with ProgressBar(4, "test", terminal=False, log=lines.append) as bar:
        for _ in range(4):
            bar.update()
    assert [line.split(",")[0] for line in lines] == [
        f"test: {i}/4 ({25 * i}%)" for i in (1, 2, 3, 4)
    ]
    assert capsys.readouterr().err == ""
