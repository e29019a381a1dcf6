"""The one-line messages the tools print for bad input."""

from vipseg.utils.errors import DataError, MissingDataError, last_line


def test_last_line_strips_a_worker_traceback_and_the_class_path():
    worker = (
        "Caught DataError in DataLoader worker process 0.\nOriginal Traceback (most recent "
        'call last):\n  File "x.py", line 1, in f\nvipseg.utils.errors.DataError: cannot '
        "decode image a.png: not a readable image (8 bytes)\n"
    )
    assert (
        last_line(DataError(worker)) == "cannot decode image a.png: not a readable image (8 bytes)"
    )


def test_last_line_keeps_a_plain_message_and_names_an_empty_one():
    assert last_line(MissingDataError("data_root 'x' does not exist")) == (
        "data_root 'x' does not exist"
    )
    assert last_line(DataError("")) == "DataError"


def test_input_errors_are_also_the_builtin_kinds():
    assert isinstance(MissingDataError("x"), FileNotFoundError)
    assert isinstance(DataError("x"), ValueError)
