"""The JSON answer of one classified image, shared by ``/v1/classify`` and ``/v1/check``."""

from __future__ import annotations

from typing import Any

import torch

from plotlstm.inference.classifier import PlotClassifier


def to_results(
    classifier: PlotClassifier, rows: list[Any], images: list[Any] | None = None
) -> list[dict[str, Any]]:
    """JSON per image: the class (``unrecognized`` for a non-plot), its probability, every class's probability."""
    if not rows:
        return []
    predictions = classifier.to_predictions(torch.stack(rows), [""] * len(rows), images=images)
    return [
        {"class": p.label, "confidence": p.confidence, "probabilities": p.probabilities} for p in predictions
    ]
