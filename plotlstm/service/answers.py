"""The JSON answer of one classified image, shared by ``/v1/classify`` and ``/v1/check``, and its evidence."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.explain import intervals, plot_area


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


def uploaded_evidence(evidence: np.ndarray, image: torch.Tensor) -> dict[str, Any]:
    """``evidence`` over the model input's columns; ``plot_area``, the found axes box's columns as shares of the
    image's width (null when none is found); ``where``, the top stretches of the plot area (0: its left edge, 1: its
    right) holding the evidence, or of the whole image without a box."""
    s = len(evidence)
    area = plot_area(image)
    first, last = area if area else (0, s - 1)
    axis = (np.arange(first, last + 1) + 0.5 - first) / (last + 1 - first)
    return {
        "evidence": [round(float(v), 5) for v in evidence],
        "plot_area": {"left": first / s, "right": (last + 1) / s} if area else None,
        "where": [w.as_dict() for w in intervals(evidence[first : last + 1], axis)],
    }
