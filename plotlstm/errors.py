"""Errors that plotlstm reports to users as one clear line."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


class PlotLSTMError(Exception):
    """A problem with the user's input (a file, a field, a checkpoint), told in one line."""


class DataError(PlotLSTMError, ValueError):
    """The data root or an image in it is missing, empty or unreadable."""


class CheckpointError(PlotLSTMError, ValueError):
    """A checkpoint is missing, unreadable, not plotlstm's, or does not fit the data."""


class CheckError(PlotLSTMError, ValueError):
    """A fit that cannot be checked: unknown object, unequal lengths, too few or non-finite values, bad formula."""


class GeneratorError(PlotLSTMError, ValueError):
    """Bad generator arguments or an unwritable data root."""


class SettingsMismatchError(GeneratorError):
    """``root`` already holds a data set made with other settings (``field`` names the first; ``drawn`` is its
    value there, ``asked`` the value given)."""

    def __init__(self, message: str, field: str, drawn: object = None, asked: object = None) -> None:
        super().__init__(message)
        self.field, self.drawn, self.asked = field, drawn, asked


class TrainingError(PlotLSTMError, FloatingPointError):
    """Training went wrong in a way the user can act on (for example a NaN loss)."""


EXIT_ERROR = 2
"""Exit status of a command that stopped on an error (one line on stderr)."""
EXIT_NOTHING_DONE = 1
"""Exit status of a command that ran but produced no result (``predict``: no input could be classified)."""
TRACEBACK_ENV = "PLOTLSTM_TRACEBACK"


def first_line(err: BaseException) -> str:
    """The first line of an error's message, or its type's name when it has none."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def one_line(err: BaseException) -> str:
    """An error's whole message on one line (whitespace runs joined), or its type's name when it has none."""
    return " ".join(str(err).split()) or type(err).__name__


def describe(err: BaseException) -> str:
    """One line for any error: the message of a PlotLSTMError, the file and reason of an OSError, else the
    exception's type and first line."""
    if isinstance(err, PlotLSTMError):
        return one_line(err)
    if isinstance(err, OSError) and err.strerror:
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror}"
    first = first_line(err)
    return type(err).__name__ if first == type(err).__name__ else f"{type(err).__name__}: {first}"


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn any error into ``error: ...`` (one line) on stderr and exit status 2, for the commands.

    Errors other than :class:`PlotLSTMError` and ``OSError`` are bugs or surprises: the line says so, and
    ``PLOTLSTM_TRACEBACK=1`` shows the traceback instead."""
    try:
        yield
    except PlotLSTMError as err:
        print(f"error: {describe(err)}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None
    except Exception as err:
        if os.environ.get(TRACEBACK_ENV):
            raise
        hint = "" if isinstance(err, OSError) else f" (unexpected; {TRACEBACK_ENV}=1 shows the traceback)"
        print(f"error: {describe(err)}{hint}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None
