"""Drawing a plot of many points fast: R's lowess on binned data, and markers stamped per pixel, not per point.

The renderer's exact paths cost time in proportion to the number of points: statsmodels' lowess about 4 us a point
(4 s for 1,000,000), the marker sprites about 0.6 us a point. For large fits :mod:`plotlstm.synth.render` uses:

* :func:`binned_lowess`: R's ``lowess`` (span 2/3, 3 robustness iterations, ``delta`` = 1 % of the x range) with the
  local regressions computed from per-bin sums over ``bins`` equal-width x bins. Each point keeps its own
  robustness weight (its own residual, and the median absolute residual over all points, as R); within a bin the
  sums of ``w``, ``w x``, ``w x^2``, ``w y``, ``w x y`` are exact, and only the tricube neighbourhood weight is taken
  at the bin's mean x instead of at each point (and the window half-width from the binned counts). The curve is fitted
  at R's ``delta`` spacing and is linear in between, as R's. docs/check.md gives its error against the exact curve.
* :func:`stamp_counts`: the markers' coverage from per-pixel, per-sub-pixel-phase point counts, convolved with each
  phase's sprite by FFT. The renderer composites markers as ``1 - prod(1 - a)``, a sum of ``log(1 - a)`` that is linear
  in the counts, so this equals stamping every point (to floating-point rounding), at a cost set by the image size.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft

SPAN = 2 / 3
ITERATIONS = 3
DELTA = 0.01
BINS = 2048
MEDIAN_SAMPLE = 250_000
"""Above this many points the median absolute residual is taken over every k-th point (k = n // MEDIAN_SAMPLE)."""


def _tricube(u: np.ndarray) -> np.ndarray:
    """R's ``lowest`` weights: (1 - u^3)^3 up to 0.999, 0 beyond (1 below 0.001: the same to 1e-9)."""
    w = 1.0 - u * u * u
    np.maximum(w, 0.0, out=w)
    w *= w * w
    w[u > 0.999] = 0.0
    return w


def _median(v: np.ndarray) -> float:
    """The median as R's ``clowess`` takes it (the mean of the two middle values when the count is even)."""
    half = len(v) // 2
    if len(v) % 2:
        return float(np.partition(v, half)[half])
    part = np.partition(v, [half - 1, half])
    return float(part[half - 1] + part[half]) / 2


def _half_widths(anchors: np.ndarray, edges: np.ndarray, cdf: np.ndarray, q: int) -> np.ndarray:
    """Per anchor, the smallest h with ``q`` points in ``[a - h, a + h]`` (counts spread evenly within a bin)."""
    lo = np.zeros_like(anchors)
    hi = np.full_like(anchors, edges[-1] - edges[0])
    for _ in range(40):
        mid = (lo + hi) / 2
        inside = np.interp(anchors + mid, edges, cdf) - np.interp(anchors - mid, edges, cdf)
        enough = inside >= q - 0.5
        hi = np.where(enough, mid, hi)
        lo = np.where(enough, lo, mid)
    return hi


def _anchors(centre: np.ndarray) -> np.ndarray:
    """Where R's lowess fits (x scaled to [0, 1]): from the first point, each next fit point is the last one at most
    ``delta`` further, or the next one after a gap; the last point always. Here the points are the occupied bins'
    mean x (the first and last replaced by the exact ends)."""
    points = centre.copy()
    points[0], points[-1] = 0.0, 1.0
    out, j = [0], 0
    while j < len(points) - 1:
        k = int(np.searchsorted(points, points[j] + DELTA, side="right")) - 1
        j = max(k, j + 1)
        out.append(j)
    return points[out]


def binned_lowess(
    x: np.ndarray, y: np.ndarray, bins: int = BINS, span: float = SPAN, iterations: int = ITERATIONS
) -> tuple[np.ndarray, np.ndarray]:
    """R's ``lowess(x, y)`` from binned sums: the fit points ``(xs, ys)`` of its piecewise-linear curve.

    The fit points are R's (data points at most ``delta`` = 1 % of the x range apart, or the two sides of a gap),
    taken at bin resolution. ``x`` must have a positive range; non-finite values are the caller's business.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    lo, hi = float(x.min()), float(x.max())
    width = hi - lo
    u = (x - lo) / width  # x in [0, 1]: the moments below keep their precision
    b = np.minimum((u * bins).astype(np.int64), bins - 1)
    counts = np.bincount(b, minlength=bins).astype(np.float64)
    occupied = counts > 0
    centre = np.bincount(b, weights=u, minlength=bins)[occupied] / counts[occupied]
    b = np.cumsum(occupied)[b] - 1  # bin numbers among the occupied bins only
    edges = np.linspace(0.0, 1.0, bins + 1)
    cdf = np.concatenate(([0.0], np.cumsum(counts)))
    q = max(min(int(np.floor(span * n + 1e-5)), n), 2)
    anchors = _anchors(centre)
    h = _half_widths(anchors, edges, cdf, q)
    kernel = _tricube(np.abs(centre[None, :] - anchors[:, None]) / h[:, None])  # (anchors, occupied bins)

    k = np.minimum(np.searchsorted(anchors, u, side="right") - 1, len(anchors) - 2)  # each point's segment
    t = (u - anchors[k]) / np.diff(anchors)[k]
    m = len(centre)
    columns = (u, u * u, y, u * y)
    robust: np.ndarray | None = None
    fit = np.zeros_like(anchors)
    for step in range(iterations + 1):
        if robust is None:
            sums = [counts[occupied], *(np.bincount(b, weights=v, minlength=m) for v in columns)]
        else:
            sums = [np.bincount(b, weights=robust, minlength=m)]
            sums += [np.bincount(b, weights=v * robust, minlength=m) for v in columns]
        s0, s1, s2, t0, t1 = (kernel @ np.stack(sums, axis=1)).T
        with np.errstate(divide="ignore", invalid="ignore"):
            xbar, ybar = s1 / s0, t0 / s0
            sxx = s2 / s0 - xbar * xbar
            slope = np.where(np.sqrt(np.maximum(sxx, 0.0)) > 0.001, (t1 / s0 - xbar * ybar) / sxx, 0.0)
            new = ybar + (anchors - xbar) * slope
        valid = np.isfinite(new)
        if valid.any():  # an anchor with no weight near it (a gap in x): the curve is straight across, as R's
            fit = new if valid.all() else np.interp(anchors, anchors[valid], new[valid])
        if step == iterations:
            break
        res = np.diff(fit)[k]
        res *= t
        res += fit[k]
        np.subtract(y, res, out=res)
        np.abs(res, out=res)
        cmad = 6.0 * _median(res[:: max(1, n // MEDIAN_SAMPLE)])
        if cmad <= 1e-7 * float(res.mean()):  # a (near) perfect fit: R stops here too
            break
        r = np.minimum(res / cmad, 1.0)  # R's bisquare: (1 - r^2)^2, 0 beyond 0.999
        robust = 1.0 - r * r
        robust *= robust
        robust[r > 0.999] = 0.0
    return lo + anchors * width, fit


def stamp_counts(
    counts: np.ndarray, sprites: tuple[tuple[np.ndarray, np.ndarray], ...], height: int, width: int
) -> np.ndarray:
    """``sum over points of log(1 - a)`` on a (height, width) grid from per-phase point counts.

    ``counts`` is (phases, height, width): how many points of each sub-pixel phase sit at each pixel; ``sprites``
    gives per phase the (dy, dx) offsets of its pixels and their ``log(1 - a)``, as the renderer's sprite table.
    """
    reach = int(max(np.abs(sp[0]).max() for sp in sprites))
    shape = (
        sp_fft.next_fast_len(height + 2 * reach, real=True),
        sp_fft.next_fast_len(width + 2 * reach, real=True),
    )
    total = None
    kernels = np.zeros((len(sprites), *shape))
    for q, (offsets, logw) in enumerate(sprites):
        kernels[q, offsets[0] % shape[0], offsets[1] % shape[1]] = logw
    spectrum = sp_fft.rfft2(counts, s=shape, workers=-1) * sp_fft.rfft2(kernels, workers=-1)
    total = sp_fft.irfft2(spectrum.sum(axis=0), s=shape, workers=-1)
    out = total[:height, :width]
    out[np.abs(out) < 1e-9] = 0.0  # FFT rounding where no marker reaches
    return out
