"""When the answer is ``unrecognized``: an image that is not a residual-vs-fitted plot.

Three rules, in order, on the prepared model input and the model's class probabilities:

1. a flat image (blank, one colour, a 1 x 1 image resized) has nothing to read: its pixel values span fewer than
   :data:`FLAT_RANGE` levels;
2. a model trained with the extra class ``unrecognized`` (the generator's non-plots, see
   ``plotlstm.synth.negatives``) says so when that class is the most probable;
3. any model: the most probable class has a probability below ``min_confidence`` (stored in the checkpoint
   under ``"unrecognized"``; 0 turns the rule off).

Then one rule on the violations: a violation is named only when the plot is spoiled with a probability,
``1 - P(none)``, of at least ``min_spoiled`` (stored in the checkpoint under ``"verdict"``; 0 turns it off);
below it the answer is ``none``: the picture does not show enough to call it spoiled.

The class probabilities are always given in full; only the label changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

UNRECOGNIZED = "unrecognized"
FLAT_RANGE = 8
"""An image whose values (0..255) span fewer levels than this is flat."""


def is_flat(image: torch.Tensor) -> bool:
    """True when the prepared image (uint8, or float in [0, 1]) is one colour (each channel), up to ``FLAT_RANGE`` levels."""
    x = image.float() if image.dtype == torch.uint8 else image.float() * 255.0
    if x.numel() == 0:
        return True
    per_channel = x.reshape(x.shape[0], -1) if x.ndim == 3 else x.reshape(1, -1)  # (C, H, W): one colour each
    return bool(float((per_channel.amax(dim=1) - per_channel.amin(dim=1)).max()) < FLAT_RANGE)


def decide(
    probabilities: Sequence[float],
    classes: Sequence[str],
    image: torch.Tensor | None = None,
    min_confidence: float = 0.0,
    min_spoiled: float = 0.0,
) -> str:
    """The label for one image: the most probable class, ``unrecognized`` or ``none`` by the rules above."""
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    if image is not None and is_flat(image):
        return UNRECOGNIZED
    if probabilities[best] < min_confidence:
        return UNRECOGNIZED
    if min_spoiled and classes[best] != UNRECOGNIZED and "none" in classes:
        if 1.0 - probabilities[list(classes).index("none")] < min_spoiled:
            return "none"
    return classes[best]
