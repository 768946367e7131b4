"""plotlstm: read a regression "Residuals vs Fitted" plot and say what is wrong with the data behind it.

The main names load lazily, so ``import plotlstm.synth.generator`` (and the generator's worker processes) do not pay
for importing torch and Lightning. The commands' library calls live in their modules, named like them:
``plotlstm.generate.generate``, ``plotlstm.evaluate.evaluate``, ``plotlstm.import_keras.import_keras``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "PlotClassifier": "plotlstm.inference.classifier",
    "Prediction": "plotlstm.inference.classifier",
    "PlotDataModule": "plotlstm.data.datamodule",
    "PlotLitModule": "plotlstm.models.module",
    "PlotLSTMError": "plotlstm.errors",
    "DataError": "plotlstm.errors",
    "CheckpointError": "plotlstm.errors",
    "classification_report": "plotlstm.inference.metrics",
    "check": "plotlstm.inference.check",
    "CheckResult": "plotlstm.inference.check",
}
__all__ = [
    "CheckpointError",
    "DataError",
    "PlotClassifier",
    "PlotDataModule",
    "PlotLitModule",
    "PlotLSTMError",
    "Prediction",
    "CheckResult",
    "check",
    "classification_report",
]

if TYPE_CHECKING:
    from plotlstm.data.datamodule import PlotDataModule
    from plotlstm.errors import CheckpointError, DataError, PlotLSTMError
    from plotlstm.inference.check import CheckResult, check
    from plotlstm.inference.classifier import PlotClassifier, Prediction
    from plotlstm.inference.metrics import classification_report
    from plotlstm.models.module import PlotLitModule


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'plotlstm' has no attribute {name!r}")
