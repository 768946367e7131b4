"""What the commands (``python -m plotlstm.<command>``) share: the configs in ``conf/`` and the rule that a user's
mistake is one line, ``error: ...``, with exit status 2."""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import hydra
from omegaconf import DictConfig

from plotlstm.errors import PlotLSTMError, one_line_errors

_PACKAGE = Path(__file__).resolve().parent
CONF_DIR = str(_PACKAGE / "conf" if (_PACKAGE / "conf").is_dir() else _PACKAGE.parent / "conf")
"""The Hydra configs: ``conf/`` at the top of a checkout (an editable install), ``plotlstm/conf`` in a wheel."""
T = TypeVar("T")


def command(config_name: str) -> Callable[[Callable[[DictConfig], T]], Callable[[], T]]:
    """``@command("train")`` makes ``fn(cfg)`` a Hydra entry point reading ``conf/train.yaml``, whose
    :class:`PlotLSTMError` becomes one line on stderr and exit status 2."""

    def decorate(fn: Callable[[DictConfig], T]) -> Callable[[], T]:
        def run(cfg: DictConfig) -> T:
            with one_line_errors():
                return fn(cfg)

        # Hydra names the job after the task function's module; under `python -m` that is __main__.
        module = fn.__module__
        spec = getattr(sys.modules.get(module), "__spec__", None)
        run.__module__ = spec.name if module == "__main__" and spec else module
        run.__name__ = run.__qualname__ = fn.__name__
        run.__doc__ = fn.__doc__
        return hydra.main(config_path=CONF_DIR, config_name=config_name, version_base="1.3")(run)

    return decorate


def hydra_quoted(arg: str) -> str:
    """``formula=y ~ x1`` as ``formula='y ~ x1'``: Hydra's override grammar reads a bare ``~`` as an operator."""
    key, sep, value = arg.partition("=")
    if key != "formula" or not sep or value[:1] in ("'", '"', "["):
        return arg
    return "formula='" + value.replace("'", "\\'") + "'"


def check_command() -> None:
    """``plotlstm-check``: runs ``plotlstm.check`` as ``python -m`` does (that module refuses to be imported, so
    that ``plotlstm.check`` stays the library call)."""
    runpy.run_module("plotlstm.check", run_name="__main__", alter_sys=True)


def required(cfg: Any, key: str, example: str) -> Any:
    """``cfg[key]``, or one line naming the key and an example when it is missing or empty."""
    value = cfg.get(key)
    if value in (None, "", []):
        raise PlotLSTMError(f"{key}: give {example}")
    return value


def check_batch_size(value: Any, key: str = "batch_size") -> int:
    """A whole number >= 1, or one line naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PlotLSTMError(f"{key}: must be a whole number >= 1, got {value!r}")
    return value


def check_writable_dir(folder: str | Path, key: str) -> Path:
    """Prove that ``folder`` can be made and written (a probe file in its nearest existing folder), before any
    work and without leaving anything behind; else one line naming ``key``."""
    folder = Path(folder).absolute()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise PlotLSTMError(f"{key}: cannot write to {folder} ({existing} is not a folder)")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".plotlstm-probe-"):
            pass
    except OSError as err:
        raise PlotLSTMError(f"{key}: cannot write to {folder} ({err.strerror or err})") from None
    return folder


def check_writable_file(path: str | Path, key: str) -> Path:
    """The folder of ``path`` is writable and ``path`` is not a folder, or one line naming ``key``."""
    path = Path(path)
    if path.is_dir():
        raise PlotLSTMError(f"{key}: {path} is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise PlotLSTMError(f"{key}: cannot write to {path} (permission denied)")
    check_writable_dir(path.parent, key)
    return path
