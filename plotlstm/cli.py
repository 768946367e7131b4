"""What the commands (``python -m plotlstm.<command>``) share: the configs in ``plotlstm/conf`` and the rule that
a user's mistake is one line, ``error: ...``, with exit status 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import hydra
from omegaconf import DictConfig

from plotlstm.errors import PlotLSTMError, one_line_errors

CONF_DIR = str(Path(__file__).resolve().with_name("conf"))
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


def required(cfg: Any, key: str, example: str) -> Any:
    """``cfg[key]``, or one line naming the key and an example when it is missing or empty."""
    value = cfg.get(key)
    if value in (None, "", []):
        raise PlotLSTMError(f"{key}: give {example}")
    return value
