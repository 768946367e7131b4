"""plotlstm: read a regression "Residuals vs Fitted" plot and say what is wrong with the data behind it."""

from plotlstm.classifier import PlotClassifier, Prediction
from plotlstm.data import PlotDataModule
from plotlstm.errors import CheckpointError, DataError, PlotLSTMError
from plotlstm.model import PlotLSTM

__all__ = [
    "CheckpointError",
    "DataError",
    "PlotClassifier",
    "PlotDataModule",
    "PlotLSTM",
    "PlotLSTMError",
    "Prediction",
]
__version__ = "0.1.0"
