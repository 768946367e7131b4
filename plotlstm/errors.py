"""Errors that plotlstm reports to users as one clear line."""

from __future__ import annotations

import contextlib
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
    """``root`` already holds a data set made with other settings (``field`` names the first)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class TrainingError(PlotLSTMError, FloatingPointError):
    """Training went wrong in a way the user can act on (for example a NaN loss)."""


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a :class:`PlotLSTMError` into ``error: ...`` on stderr and exit status 2 (for the commands)."""
    try:
        yield
    except PlotLSTMError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
