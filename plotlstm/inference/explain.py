"""Where along the x axis the evidence for a class lies: per-column evidence of a network's answer.

* Networks that read the x axis as time with a head at every step (the seed's LSTM, the GRU) are explained
  exactly: the class's logit is a sum over steps of the per-step head's contribution (``explain_steps``), one
  step a pixel column.
* A network that can be cut before its last block (``trunk`` and ``top``: the CoordConv) by an **occlusion
  sweep in feature space**: each column of the trunk's feature map (8 pixel columns of a 64-px input) in turn is
  replaced by the same column of a blank plot's features (the image's background everywhere), and the drop of
  the class's logit is that column's evidence. Only the last block runs once per column, so it costs a
  fraction of a sweep over the input (1.6 against 6.9 ms a 64-px image on 2 CPU cores).
* Any other network (ResNet-18) by an **occlusion sweep over columns** of the input: each band of ``band``
  pixel columns is painted with the image's background and the drop of the class's logit is that band's
  evidence.

:func:`column_evidence` gives (B, S) evidence over the model input's S columns (positive: for the class).
:func:`intervals` turns it into the top stretches of an axis (fitted values for ``check``, pixel columns of the
plot area for an uploaded image), each with its share of the positive evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from plotlstm.data.images import scale

BAND = 8
"""Pixel columns occluded at a time (of the model's input): 8 of 64 keeps the sweep at 8 network calls."""
SWEEP = "auto"
"""Where a network with a ``trunk`` is occluded: ``features`` (its trunk's columns), ``input`` (bands of pixels,
as for any other network: about 3x the cost) or ``auto``: the input for the classes of :data:`INPUT_SWEEP`, the
features for the others (``benchmarks/where.py --sweep`` compares them)."""
INPUT_SWEEP = frozenset({"heteroskedastic", "nonlinear"})
"""Classes whose evidence the input sweep places better (chosen on other fits than the reported ones,
``benchmarks/where.py --seed 1``): in feature space a fan's evidence lies in its dense narrow part, not at its
wide end (the top interval held the wide end for 9 % of fans against 60 % by the input sweep), and a curve's
bend 77 against 85 %; outliers and caps are placed better in feature space (95 against 85-88 %)."""
WIDE_BAND = 16
"""Pixel columns occluded at a time when :data:`INPUT_SWEEP`'s classes are swept over the input (4 network
calls): a fan or a curve spans the axis, and the data reorder its stretches (``check.ORDER``), so coarse bands
cost less and placed better than :data:`BAND` on other fits than the reported ones (``benchmarks/where.py --seed
1`` and ``--seed 2``: fans 93 and 87 % against 86 and 69 %, curves 98 and 100 % against 89 and 88 %, 1.7-1.8x
the classification against 2.2-2.4x; the top stretch 45 % of the range wide against 18-39 %)."""


@torch.inference_mode()
def column_evidence(
    net: nn.Module,
    images: torch.Tensor,
    classes: torch.Tensor,
    band: int | None = None,
    names: Sequence[str] | None = None,
) -> torch.Tensor:
    """(B, S) evidence for ``classes`` (B,) over the columns of prepared ``images`` (B, 3, S, S); ``band``:
    occluded columns at a time (default :data:`BAND`; :data:`WIDE_BAND` for the input sweep of ``auto``);
    ``names``: the classes' names (which sweep, by :data:`SWEEP`)."""
    if SWEEP == "auto" and names is not None and hasattr(net, "trunk"):
        by_input = torch.tensor([n in INPUT_SWEEP for n in names], device=images.device)
        out = torch.empty(images.shape[0], images.shape[-1], device=images.device)
        for mask, sweep in ((by_input, "input"), (~by_input, "features")):
            if mask.any():
                wide = WIDE_BAND if sweep == "input" else BAND
                out[mask] = _sweep(net, images[mask], classes[mask], band or wide, sweep)
        return out
    return _sweep(net, images, classes, band or BAND, "input" if SWEEP == "input" else "features")


def _sweep(
    net: nn.Module, images: torch.Tensor, classes: torch.Tensor, band: int, sweep: str
) -> torch.Tensor:
    x = scale(images)
    if hasattr(net, "explain_steps"):
        return net.explain_steps(x, classes)
    s = x.shape[-1]
    background = (
        x[:, :, :, :2].median(dim=3, keepdim=True).values.median(dim=2, keepdim=True).values
    )  # (B, 3, 1, 1)
    b = len(x)
    if hasattr(net, "trunk") and sweep == "features":
        both = net.trunk(torch.cat([x, background.expand_as(x)]))  # the image's features and a blank plot's
        features, blank = both[:b], both[b:]  # (B, C, h, w)
        w = features.shape[-1]
        occluded = features.unsqueeze(1).repeat(1, w, 1, 1, 1)  # (B, w, C, h, w)
        for k in range(w):
            occluded[:, k, :, :, k] = blank[:, :, :, k]
        logits = net.top(torch.cat([features, occluded.flatten(0, 1)]))  # one call: (B + B * w, classes)
        band = s // w
    else:
        starts = list(range(0, s, band))
        occluded = x.unsqueeze(1).repeat(1, len(starts), 1, 1, 1)  # (B, K, 3, S, S)
        for k, start in enumerate(starts):
            occluded[:, k, :, :, start : start + band] = background
        logits = net(torch.cat([x, occluded.flatten(0, 1)]))  # one call: (B + B * K, classes)
        w = len(starts)
    base, logits = _logit(logits[:b], classes), logits[b:]
    drop = base.unsqueeze(1) - _logit(logits, classes.repeat_interleave(w)).view(len(x), w)
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
