"""Where along the x axis the evidence for a class lies: per-column evidence of a network's answer.

* Networks that read the x axis as time with a head at every step (the seed's LSTM, the GRU) are explained
  exactly: the class's logit is a sum over steps of the per-step head's contribution (``explain_steps``), one
  step a pixel column.
* Any other network (CoordConv, ResNet-18) by an **occlusion sweep over columns**: each band of ``band`` pixel
  columns is painted with the image's background and the drop of the class's logit is that band's evidence.

:func:`column_evidence` gives (B, S) evidence over the model input's S columns (positive: for the class).
:func:`intervals` turns it into the top stretches of an axis (fitted values for ``check``, pixel columns of the
plot area for an uploaded image), each with its share of the positive evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from plotlstm.data.images import scale

BAND = 8
"""Pixel columns occluded at a time (of the model's input): 8 of 64 keeps the sweep at 8 network calls."""


@torch.inference_mode()
def column_evidence(
    net: nn.Module, images: torch.Tensor, classes: torch.Tensor, band: int | None = None
) -> torch.Tensor:
    """(B, S) evidence for ``classes`` (B,) over the columns of prepared ``images`` (B, 3, S, S); ``band``:
    occluded columns at a time (default :data:`BAND`)."""
    band = band or BAND
    x = scale(images)
    if hasattr(net, "explain_steps"):
        return net.explain_steps(x, classes)
    base = _logit(net(x), classes)
    s = x.shape[-1]
    background = (
        x[:, :, :, :2].median(dim=3, keepdim=True).values.median(dim=2, keepdim=True).values
    )  # (B, 3, 1, 1)
    starts = list(range(0, s, band))
    occluded = x.unsqueeze(1).repeat(1, len(starts), 1, 1, 1)  # (B, K, 3, S, S)
    for k, start in enumerate(starts):
        occluded[:, k, :, :, start : start + band] = background
    logits = net(occluded.flatten(0, 1))  # (B * K, classes)
    drop = base.unsqueeze(1) - _logit(logits, classes.repeat_interleave(len(starts))).view(
        len(x), len(starts)
    )
    return drop.repeat_interleave(band, dim=1)[:, :s] / band


def _logit(logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Each row's logit of its class (a single-logit binary network: the logit for class 1, negated for 0)."""
    if logits.ndim == 1:
        return torch.where(classes == 1, logits, -logits)
    return logits.gather(1, classes.view(-1, 1).long()).squeeze(1)


@dataclass(frozen=True)
class Interval:
    """A stretch of the axis, ``low``..``high``, holding ``share`` of the positive evidence."""

    low: float
    high: float
    share: float

    def as_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "share": self.share}


def intervals(evidence: np.ndarray, axis: np.ndarray, top: int = 3, spread: int = 3) -> list[Interval]:
    """The ``top`` stretches of ``axis`` (one value per column) with the most positive ``evidence``.

    The evidence is smoothed over ``spread`` columns; a stretch is a run of columns above half the peak, grown
    from the strongest column; each next stretch from the strongest column left outside the stretches found."""
    positive = np.clip(np.asarray(evidence, dtype=float), 0, None)
    total = positive.sum()
    if total <= 0 or len(positive) == 0:
        return []
    smooth = np.convolve(positive, np.ones(spread) / spread, mode="same")
    free = np.ones(len(smooth), bool)
    found: list[Interval] = []
    while len(found) < top and free.any() and smooth[free].max() > 0:
        peak = int(np.flatnonzero(free)[np.argmax(smooth[free])])
        cut = smooth[peak] / 2
        lo = hi = peak
        while lo > 0 and free[lo - 1] and smooth[lo - 1] >= cut:
            lo -= 1
        while hi < len(smooth) - 1 and free[hi + 1] and smooth[hi + 1] >= cut:
            hi += 1
        free[lo : hi + 1] = False
        found.append(Interval(float(axis[lo]), float(axis[hi]), float(positive[lo : hi + 1].sum() / total)))
    return found


def plot_area(image: torch.Tensor, ink: int = 10, span: float = 0.5) -> tuple[int, int] | None:
    """The columns (first, last) of the plot area of a prepared image (3, S, S): the outermost columns, one in
    the left and one in the right quarter of the image (where a plot's margins put its box), where at least
    ``span`` of the rows differ from the background (the median of the image's border) by more than ``ink``
    levels: the box's or the axis' vertical lines, or the edges of a panel that is not the background's colour.
    None when either side is not found (no box, no panel, or lines too faint at a small input size: the evidence
    then covers the whole image)."""
    gray = image.float().mean(0) if image.ndim == 3 else image.float()  # (S, S), 0..255 or 0..1
    if not image.is_floating_point() or gray.max() > 1:
        gray = gray / 255.0
    s = gray.shape[-1]
    border = torch.cat([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    marked = (gray - border.median()).abs() > ink / 255.0  # (S, S)
    tall = (marked.float().mean(0) >= span).nonzero().flatten().tolist()  # columns marked over most rows
    left = [c for c in tall if c < s // 4]
    right = [c for c in tall if c >= s - s // 4]
    if not left or not right:
        return None
    return left[0], right[-1]
