"""The plot classification service: a FastAPI app with dynamic batching (``python -m plotlstm.serve``)."""

from plotlstm.service.app import create_app
from plotlstm.service.batcher import DynamicBatcher
from plotlstm.service.server import BackgroundServer
from plotlstm.service.settings import ServiceSettings

__all__ = ["BackgroundServer", "DynamicBatcher", "ServiceSettings", "create_app"]
