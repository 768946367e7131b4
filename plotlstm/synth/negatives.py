"""The training class ``unrecognized``: images that are not residual-vs-fitted plots, drawn by the package.

A model trained with this class answers ``unrecognized`` for pictures it should not read. The images come from
this module's own drawing (the renderer's canvas, Pillow, numpy), never from matplotlib or seaborn, so that the
renderers benchmark (``benchmarks/renderers.py``), whose non-plots matplotlib and seaborn draw, measures how
the rule generalises. Image ``index`` depends only on ``(seed, index)`` and the style option; its kind cycles
through :data:`KINDS`:

* ``qq``: a normal QQ plot of a normal, heavy-tailed or skewed sample (points along a rising line);
* ``trend``: y against x with a linear or exponential trend of R^2 0.1-0.98 (a residual plot has none), in any
  units, points only, under the style's smoother or under a fitted regression line (seaborn's ``regplot``);
* ``histogram`` and ``bars``: bar charts;
* ``lines``: one to four line series (time series, curves), with or without a marker at each point;
* ``box``: box plots of two to eight groups (upright or sideways), whiskers and outlying points;
* ``empty``: the axes of a plot without data;
* R's other ``plot(lm)`` panels of a simulated fit: ``scale_location`` (the square root of the absolute
  standardized residuals against the fitted values, under a smoother), ``leverage`` (standardized residuals
  against leverage with Cook's distance contours, none in 40 % of grey-panel looks, as ggplot2's) and ``cooks``
  (Cook's distance per observation, as needles);
* ``leverage_resid2`` and ``influence``: statsmodels' ``plot_leverage_resid2`` (leverage against the normalized
  squared residuals) and ``influence_plot`` (studentized residuals against leverage, a bubble per point sized by
  its Cook's distance), each with its crowd of point labels (the row numbers of the large ones);
* ``partial``: a partial residual (component + residual) plot: a predictor against its component plus the
  residuals, with the straight component line (statsmodels' ``plot_ccpr``, R's ``crPlots``), faint to steep;
* ``texture``: a photo-like image (blobs, waves, gradients, noise), no axes.

Each kind except ``texture`` is drawn in the plot's style (``r``, ``general``, ...), so that the look alone
never tells the class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from plotlstm.synth.render import (
    Canvas,
    _points_coverage,
    _region,
    _static_layer,
    degrade,
    draw_grid,
    draw_ticks,
    format_ticks,
    plot_limits,
    pretty,
    render_array,
)
from plotlstm.synth.style import PALETTE, Style, resolve_style

NEGATIVE_CLASS = "unrecognized"
NEGATIVE_CODE = 1000
"""Takes the place of a class code in the seed: independent of every plot class's plots."""
KINDS = (
    "qq",
    "trend",
    "histogram",
    "bars",
    "lines",
    "box",
    "empty",
    "texture",
    "qq",
    "trend",
    "lines",
    "box",
    "scale_location",
    "leverage",
    "cooks",
    "scale_location",
    "leverage",
    "partial",
    "leverage_resid2",
    "influence",
    "trend",
    "partial",
    "leverage",
    "leverage_resid2",
    "partial",
    "scale_location",
)
REVISION = 5
"""Bumped when the same ``(seed, index)`` draws another image (2: box plots, markers on lines, regression lines;
3: R's other diagnostic panels and partial residual plots; 4: statsmodels' leverage and influence plots with their
labels, and scatters and partial residual plots of every strength in every unit, as residual plots come since
designs revision 2; 5: fainter trends (R^2 from 0.1) and partial components (from R^2 0.08), ggplot2's
Residuals vs Leverage without Cook's contours, and more leverage, Scale-Location and partial residual plots);
recorded in ``generator.json`` of data sets with the class ``unrecognized``."""


def negative_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), NEGATIVE_CODE, int(index)]))


def _sample(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = int(rng.integers(3))
    if kind == 0:
        return rng.standard_normal(n)
    if kind == 1:
        return rng.standard_t(float(rng.uniform(2, 6)), n)
    return rng.lognormal(0.0, float(rng.uniform(0.3, 1.0)), n)


def _qq(rng: np.random.Generator, st: Style) -> np.ndarray:
    from scipy.stats import norm

    n = int(rng.integers(50, 5000))
    y = np.sort(_sample(rng, n))
    x = norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    st = st.replace(
        title=("Normal Q-Q" if rng.random() < 0.5 else ""),
        xlabel="Theoretical Quantiles",
        ylabel=("Standardized residuals" if rng.random() < 0.5 else "Sample Quantiles"),
        smoother=False,
        band=False,
        labels=bool(rng.random() < 0.3),
    )
    return render_array(x, y, st)


def _units(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    """``v`` in other units, as :func:`plotlstm.synth.designs.in_units` gives residual plots: a scale
    log-uniform in 10^-3..10^5 and a centre 0 (30 %) or 0.5-50 of the values' sd away."""
    a = 10 ** rng.uniform(-3, 5)
    away = 0.0 if rng.random() < 0.3 else float(np.exp(rng.uniform(np.log(0.5), np.log(50))))
    c = (1.0 if rng.random() < 0.8 else -1.0) * away * float(np.std(v)) - float(np.mean(v))
    return a * (v + c)


def _predictor(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = int(rng.integers(3))
    if kind == 0:
        return rng.uniform(0, 1, n)
    if kind == 1:
        return rng.normal(size=n)
    return rng.lognormal(0, float(rng.uniform(0.3, 1.0)), n)


def _trend(rng: np.random.Generator, st: Style) -> np.ndarray:
    """y against x with a trend whose R^2 is 0.1-0.98 (a residual plot has none), in any units."""
    n = int(rng.integers(30, 5000))
    x = _predictor(rng, n)
    u = (x - x.min()) / max(float(np.ptp(x)), 1e-9)
    shape = np.exp(2.5 * u) if rng.random() < 0.3 else u
    shape = float(rng.choice([-1, 1])) * (shape - shape.mean()) / max(float(shape.std()), 1e-12)
    r2 = float(rng.uniform(0.1, 0.98))
    y = shape + rng.normal(0, np.sqrt((1 - r2) / r2), n)
    x, y = _units(rng, x), _units(rng, y)
    st = st.replace(title="", xlabel="x", ylabel="y", zero_line=False, labels=False)
    look = rng.random()
    if look < 0.4:  # a fitted straight line (seaborn's regplot, ggplot2's geom_smooth(method = "lm"))
        st = st.replace(smoother=True, band=bool(rng.random() < 0.5))
        return render_array(x, y, st, smoother=_line_fit)
    # points only (plot(x, y), plt.scatter), or under the style's own smoother
    return render_array(x, y, st.replace(smoother=bool(st.smoother and look < 0.7)))


def _fit(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A simulated OLS fit: (x, fitted, standardized residuals, leverage)."""
    n = int(rng.integers(30, 3000))
    x = rng.lognormal(0, float(rng.uniform(0.2, 1.0)), n) if rng.random() < 0.5 else rng.normal(size=n)
    design = np.column_stack([np.ones(n), x, rng.normal(size=(n, int(rng.integers(0, 3))))])
    y = design @ rng.normal(size=design.shape[1]) + _sample(rng, n)
    q, _ = np.linalg.qr(design)
    h = np.sum(q**2, axis=1)
    fitted = q @ (q.T @ y)
    r = y - fitted
    sigma = np.sqrt(np.sum(r**2) / (n - design.shape[1]))
    return x, fitted, r / (sigma * np.sqrt(np.clip(1 - h, 1e-9, None))), h


def _scale_location(rng: np.random.Generator, st: Style) -> np.ndarray:
    _, fitted, std, _ = _fit(rng)
    st = st.replace(
        title="Scale-Location",
        ylabel="\u221a|Standardized residuals|",
        zero_line=False,
        labels=bool(rng.random() < 0.5),
    )
    return render_array(fitted, np.sqrt(np.abs(std)), st)


def _cooks_contours(h: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Cook's distance 0.5 and 1 as standardized residuals against leverage (both signs), R's dashed contours."""
    hs = np.linspace(max(float(h.min()), 1e-3), float(h.max()), 60)
    curves = [sign * np.sqrt(level * p * (1 - hs) / hs) for level in (0.5, 1.0) for sign in (1, -1)]
    return hs, np.concatenate(curves)


def _leverage(rng: np.random.Generator, st: Style) -> np.ndarray:
    _, _, std, h = _fit(rng)
    st = st.replace(
        title="Residuals vs Leverage",
        xlabel="Leverage",
        ylabel="Standardized residuals",
        labels=bool(rng.random() < 0.5),
    )
    pixels = render_array(h, std, st)
    # ggplot2's (ggfortify's) grey panel draws no Cook's contours
    if st.panel != (255, 255, 255) and rng.random() < 0.4:
        return pixels
    left, top, right, bottom, _ = _region(st)
    lo, hi = float(std.min()), float(std.max())
    span = max(hi - lo, 1e-9)
    hs, contours = _cooks_contours(h, 2)
    cv = Canvas(st.width, st.height, pixels.astype(np.float64))
    x = left + (hs - h.min()) / max(float(np.ptp(h)), 1e-9) * (right - left)
    for k in range(4):
        v = contours[k * len(hs) : (k + 1) * len(hs)]
        keep = (v > lo - 0.04 * span) & (v < hi + 0.04 * span)
        if keep.sum() > 1:
            y = bottom - (v[keep] - lo) / span * (bottom - top)
            cv.polyline(x[keep], y, 0.75, (200, 0, 0), (left, top, right, bottom))
    return cv.to_uint8()


def _cooks(rng: np.random.Generator, st: Style) -> np.ndarray:
    _, _, std, h = _fit(rng)
    d = std**2 * h / (2 * (1 - h))
    st = st.replace(title="Cook's distance", xlabel="Obs. number", ylabel="Cook's distance")
    left, top, right, bottom, _ = _region(st)
    xt, tx = _value_ticks(1.0, float(len(d)), left, right)
    yt, ty = _value_ticks(0.0, float(d.max()), bottom, top)
    cv, region = _axes(st, xt, yt)
    idx = np.arange(1, len(d) + 1, dtype=float)
    for i, v in zip(tx(idx), ty(d), strict=True):
        cv.vline(float(i), float(v), float(ty(np.zeros(1))[0]), 0.75, (0, 0, 0))
    return cv.to_uint8()


def _partial(rng: np.random.Generator, st: Style) -> np.ndarray:
    x, fitted, std, _ = _fit(rng)
    slope = float(rng.choice([-1, 1]) * np.exp(rng.uniform(np.log(0.3), np.log(3.0)))) / max(
        float(x.std()), 1e-9
    )
    a = 10 ** rng.uniform(-3, 5) if rng.random() < 0.5 else 1.0
    st = st.replace(
        title="", xlabel="x", ylabel="Component+Residual(y)", zero_line=False, labels=False, smoother=True
    )
    return render_array(_units(rng, x), a * (slope * (x - x.mean()) + std), st, smoother=_line_fit)


def _labelled(
    x: np.ndarray,
    y: np.ndarray,
    which: np.ndarray,
    st: Style,
    pixels: np.ndarray,
    limits: tuple[float, ...],
    rng: np.random.Generator,
) -> np.ndarray:
    """``pixels`` (drawn by :func:`render_array` from ``x``, ``y``) with the row numbers of ``which`` beside their
    points, as statsmodels' plots label their large points."""
    left, top, right, bottom, _ = _region(st)
    x0, x1, y0, y1 = limits
    cv = Canvas(st.width, st.height, pixels.astype(np.float64))
    size = st.font_size * float(rng.uniform(0.6, 1.3))
    for i in np.flatnonzero(which)[:100]:
        px = left + (x[i] - x0) / (x1 - x0) * (right - left)
        py = bottom - (y[i] - y0) / (y1 - y0) * (bottom - top)
        if left <= px <= right and top <= py <= bottom:
            cv.text(str(int(i)), float(px + 0.3 * size), float(py), size, st.font, st.text_color, ha=0.0)
    return cv.to_uint8()


POINTS_ONLY = {"zero_line": False, "smoother": False, "band": False, "labels": False}
"""Style fields of statsmodels' point plots: no zero line, smoother, band or R's labels."""


def _leverage_resid2(rng: np.random.Generator, st: Style) -> np.ndarray:
    """statsmodels' ``plot_leverage_resid2``: leverage against the normalized squared residuals, a pile in a
    corner with a long tail, the large points labelled."""
    _, _, std, h = _fit(rng)
    r2 = std**2 / (np.sum(std**2) if rng.random() < 0.5 else 1.0)
    st = st.replace(
        title=("Leverage vs. Normalized residuals squared" if rng.random() < 0.6 else ""),
        xlabel="Normalized residuals**2",
        ylabel="Leverage",
        **POINTS_ONLY,
    )
    large = (np.abs(std) > 1.96) | (h > 2 * h.mean())
    pixels = render_array(r2, h, st)
    return (
        _labelled(r2, h, large, st, pixels, plot_limits(r2, h, False), rng) if rng.random() < 0.8 else pixels
    )


def _influence(rng: np.random.Generator, st: Style) -> np.ndarray:
    """statsmodels' ``influence_plot``: studentized residuals against leverage, each point a bubble whose size
    grows with its Cook's distance, the large points labelled."""
    _, _, std, h = _fit(rng)
    cooks = std**2 * h / (2 * (1 - h))
    st = st.replace(
        title=("Influence Plot" if rng.random() < 0.6 else ""),
        xlabel="H Leverage",
        ylabel="Studentized Residuals",
        **POINTS_ONLY,
        point_alpha=float(rng.uniform(0.4, 0.8)),
    )
    left, top, right, bottom, _ = _region(st)
    limits = plot_limits(h, std, False)
    pixels = render_array(h, std, st.replace(marker_radius=1.0))
    size = np.sqrt(
        cooks / max(float(cooks.max()), 1e-12)
    )  # 0..1: the bubble's radius as a share of the largest
    cv = Canvas(st.width, st.height, pixels.astype(np.float64))
    px = left + (h - limits[0]) / (limits[1] - limits[0]) * (right - left)
    py = bottom - (std - limits[2]) / (limits[3] - limits[2]) * (bottom - top)
    largest = float(rng.uniform(8, 30))
    for lo, hi in ((0.2, 0.4), (0.4, 0.7), (0.7, 1.01)):
        keep = (size >= lo) & (size < hi)
        if keep.any():
            radius = round(max(float(st.marker_radius), largest * (lo + hi) / 2) * 2) / 2
            _points(cv, px[keep], py[keep], st.replace(marker="dot", marker_radius=radius), st.point_color,
                    (left, top, right, bottom))  # fmt: skip
    pixels = cv.to_uint8()
    large = (np.abs(std) > 1.96) | (h > 2 * h.mean())
    return _labelled(h, std, large, st, pixels, limits, rng) if rng.random() < 0.8 else pixels


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs = np.linspace(float(x.min()), float(x.max()), 50)
    return xs, np.polyval(np.polyfit(x, y, 1), xs)


def _axes_canvas(st: Style) -> tuple[Canvas, tuple[float, float, float, float]]:
    left, top, right, bottom, _ = _region(st)
    return Canvas(st.width, st.height, _static_layer(st)), (left, top, right, bottom)


Ticks = tuple[np.ndarray, list[str]]
"""Tick positions in pixels and their labels."""


def _value_ticks(
    lo: float, hi: float, p_lo: float, p_hi: float
) -> tuple[Ticks, Callable[[np.ndarray | float], np.ndarray]]:
    """Ticks for data values ``lo..hi`` drawn at pixels ``p_lo..p_hi`` (5 % inside), and the value -> pixel map."""
    span = max(hi - lo, 1e-9)

    def to_px(v: np.ndarray | float) -> np.ndarray:
        return p_lo + ((np.asarray(v, float) - lo) / span * 0.9 + 0.05) * (p_hi - p_lo)

    ticks = pretty(lo - 0.05 * span, hi + 0.05 * span)
    ticks = ticks[(ticks >= lo - 0.055 * span) & (ticks <= hi + 0.055 * span)]
    return (to_px(ticks), format_ticks(ticks)), to_px


def _category_ticks(k: int, p0: float, p1: float, rng: np.random.Generator) -> Ticks:
    """``k`` category ticks at the middle of ``k`` equal slots between pixels ``p0`` and ``p1``."""
    names = [str(i + 1) for i in range(k)] if rng.random() < 0.5 else [chr(65 + i % 26) for i in range(k)]
    return p0 + (np.arange(k) + 0.5) * (p1 - p0) / k, names


def _axes(st: Style, xt: Ticks, yt: Ticks) -> tuple[Canvas, tuple[float, float, float, float]]:
    """The style's empty axes with grid, tick marks and tick labels at ``xt`` and ``yt``."""
    cv, region = _axes_canvas(st)
    draw_grid(cv, st, xt[0], yt[0])
    draw_ticks(cv, st, xt, yt)
    return cv, region


def _bars(rng: np.random.Generator, st: Style, histogram: bool) -> np.ndarray:
    st = st.replace(title="" if rng.random() < 0.5 else "Histogram", xlabel="x", ylabel="count")
    left, top, right, bottom, _ = _region(st)
    if histogram:
        sample = _sample(rng, int(rng.integers(100, 5000)))
        heights, edges = np.histogram(sample, bins=int(rng.integers(8, 50)))
        heights = heights.astype(float)
        gap = 0.0 if rng.random() < 0.6 else 0.1
        xt, _ = _value_ticks(float(edges[0]), float(edges[-1]), left, right)
    else:
        heights = rng.uniform(0.1, 1.0, int(rng.integers(2, 12))) * float(10 ** rng.uniform(0, 3))
        gap = float(rng.uniform(0.1, 0.4))
        xt = _category_ticks(len(heights), left + 0.04 * (right - left), right - 0.04 * (right - left), rng)
    peak = max(float(heights.max()), 1e-9)
    yt, _ = _value_ticks(0.0, peak, bottom, top)
    yt = (yt[0][yt[0] <= bottom], [s for v, s in zip(*yt, strict=True) if v <= bottom])
    cv, _ = _axes(st, xt, yt)
    k = len(heights)
    width = (right - left) * 0.92 / k
    color = PALETTE[int(rng.integers(len(PALETTE)))] if rng.random() < 0.8 else (190, 190, 190)
    outline = bool(rng.random() < 0.5)
    for i, h in enumerate(heights):
        x0 = left + 0.04 * (right - left) + i * width + gap * width / 2
        x1 = x0 + width * (1 - gap)
        y0 = bottom - (bottom - top) * (0.9 * h / peak + 0.05)
        if x1 - x0 > 0.5 and bottom - y0 > 0.5:
            cv.fill_rect(x0, y0, x1, bottom, color)
            if outline:
                cv.vline(x0, y0, bottom, 1.0, (0, 0, 0))
                cv.vline(x1, y0, bottom, 1.0, (0, 0, 0))
                cv.hline(y0, x0, x1, 1.0, (0, 0, 0))
    return cv.to_uint8()


def _lines(rng: np.random.Generator, st: Style) -> np.ndarray:
    st = st.replace(title="", xlabel=("time" if rng.random() < 0.5 else "x"), ylabel="value")
    left, top, right, bottom, _ = _region(st)
    n = int(rng.integers(5, 40)) if rng.random() < 0.3 else int(rng.integers(20, 500))
    series = []
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.5:
            y = np.cumsum(rng.normal(size=n))
        else:
            y = np.sin(np.linspace(0, float(rng.uniform(1, 12)), n) + float(rng.uniform(0, 6))) * float(
                rng.uniform(0.3, 1.0)
            ) * 3 + np.linspace(0, float(rng.normal()), n)
        series.append(
            y * float(10 ** rng.uniform(-1, 2))
            if len(series) == 0
            else y * series[0].std() / max(y.std(), 1e-9)
        )
    x0 = float(rng.choice([0, 1, 1990, 2000]))
    t = x0 + np.arange(n)
    xt, tx = _value_ticks(float(t[0]), float(t[-1]), left, right)
    lo, hi = min(float(y.min()) for y in series), max(float(y.max()) for y in series)
    yt, ty = _value_ticks(lo, hi, bottom, top)
    cv, region = _axes(st, xt, yt)
    markers = rng.random() < 0.4
    for y in series:
        color = PALETTE[int(rng.integers(len(PALETTE)))]
        cv.polyline(tx(t), ty(y), float(rng.uniform(0.75, 2.5)), color, region)
        if markers:
            _points(cv, tx(t), ty(y), st.replace(point_alpha=1.0), color, region)
    return cv.to_uint8()


def _points(
    cv: Canvas,
    px: np.ndarray,
    py: np.ndarray,
    st: Style,
    color: tuple[int, int, int],
    region: tuple[float, float, float, float],
) -> None:
    """The style's markers at pixel positions ``(px, py)``, clipped to ``region``."""
    x0, y0 = int(np.ceil(region[0])), int(np.ceil(region[1]))
    w, h = int(np.floor(region[2])) - x0, int(np.floor(region[3])) - y0
    cv.blend(y0, x0, _points_coverage(np.asarray(px, float), np.asarray(py, float), st, x0, y0, w, h), color)


def _box(rng: np.random.Generator, st: Style) -> np.ndarray:
    """Box plots: per group the quartile box, its median, whiskers to the furthest point within 1.5 IQR, and
    the points beyond them."""
    st = st.replace(title="", xlabel=("group" if rng.random() < 0.5 else ""), ylabel="value")
    left, top, right, bottom, _ = _region(st)
    groups = [
        _sample(rng, int(rng.integers(20, 500))) + rng.normal(0, 1.5) for _ in range(int(rng.integers(2, 9)))
    ]
    lo = min(float(g.min()) for g in groups)
    hi = max(float(g.max()) for g in groups)
    sideways = rng.random() < 0.25
    a0, a1 = (left, right) if sideways else (bottom, top)  # the value axis, pixel of lo and of hi
    b0, b1 = (top, bottom) if sideways else (left, right)  # the group axis
    vt, val = _value_ticks(lo, hi, a0, a1)
    gt = _category_ticks(len(groups), b0, b1, rng)
    cv, region = _axes(st, vt if sideways else gt, gt if sideways else vt)

    slot = (b1 - b0) / len(groups)
    half = slot * float(rng.uniform(0.2, 0.4))
    fill = PALETTE[int(rng.integers(len(PALETTE)))] if rng.random() < 0.6 else None
    ink = (0, 0, 0) if fill is None or rng.random() < 0.5 else (60, 60, 60)
    lw = float(rng.uniform(0.8, 2.0))

    # The box's strokes, named by the value axis so that one drawing serves upright and sideways boxes.
    def across(v: float, g0: float, g1: float, width: float) -> None:  # across the value axis, at value v
        (cv.vline if sideways else cv.hline)(v, g0, g1, width, ink)

    def along(at: float, v0: float, v1: float) -> None:  # along the value axis, at group pixel `at`
        (cv.hline if sideways else cv.vline)(at, v0, v1, lw, ink)

    def rect(v0: float, v1: float, g0: float, g1: float) -> None:
        cv.fill_rect(*((v0, g0, v1, g1) if sideways else (g0, v0, g1, v1)), fill)

    for i, g in enumerate(groups):
        q1, med, q3 = np.percentile(g, [25, 50, 75])
        iqr = q3 - q1
        inside = g[(g >= q1 - 1.5 * iqr) & (g <= q3 + 1.5 * iqr)]
        w_lo, w_hi = float(inside.min()), float(inside.max())
        c = b0 + (i + 0.5) * slot
        p_q1, p_med, p_q3, p_lo, p_hi = (float(val(v)) for v in (q1, med, q3, w_lo, w_hi))
        out = g[(g < w_lo) | (g > w_hi)]
        if fill is not None:
            rect(min(p_q1, p_q3), max(p_q1, p_q3), c - half, c + half)
        for v in (p_q1, p_q3):
            across(v, c - half, c + half, lw)
        for edge in (c - half, c + half):
            along(edge, min(p_q1, p_q3), max(p_q1, p_q3))
        across(p_med, c - half, c + half, lw * 1.5)
        along(c, min(p_lo, p_q1), max(p_lo, p_q1))
        along(c, min(p_q3, p_hi), max(p_q3, p_hi))
        pv, pg = val(out), np.full(len(out), c)
        _points(cv, *((pv, pg) if sideways else (pg, pv)), st.replace(point_alpha=1.0), ink, region)
    return cv.to_uint8()


def _texture(rng: np.random.Generator) -> np.ndarray:
    h, w = int(rng.integers(120, 700)), int(rng.integers(120, 700))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32) + rng.uniform(0, 255, 3).astype(np.float32)
    for _ in range(int(rng.integers(2, 12))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = float(rng.uniform(10, max(h, w) / 2))
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
        img += blob * rng.uniform(-150, 150, 3).astype(np.float32)
    if rng.random() < 0.5:
        f, a = rng.uniform(0.005, 0.1, 2), float(rng.uniform(0, 6.3))
        img += (np.sin(f[0] * xx + f[1] * yy + a)[..., None] * rng.uniform(-60, 60, 3)).astype(np.float32)
    img += rng.normal(0, float(rng.uniform(0, 25)), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


DRAWERS: dict[str, Callable[[np.random.Generator, Style], np.ndarray]] = {
    "qq": _qq,
    "trend": _trend,
    "histogram": lambda rng, st: _bars(rng, st, histogram=True),
    "bars": lambda rng, st: _bars(rng, st, histogram=False),
    "lines": _lines,
    "box": _box,
    "scale_location": _scale_location,
    "leverage": _leverage,
    "cooks": _cooks,
    "partial": _partial,
    "leverage_resid2": _leverage_resid2,
    "influence": _influence,
}
"""The kinds drawn by a function of the rng and the style (``empty`` and ``texture`` are drawn in place)."""


def make_negative(seed: int, index: int, style: Any = "r") -> Image.Image:
    """Non-plot ``index`` of the class ``unrecognized``: its kind is ``KINDS[index % len(KINDS)]``."""
    rng = negative_rng(seed, index)
    kind = KINDS[index % len(KINDS)]
    st = resolve_style(style, rng)
    if kind in DRAWERS:
        pixels = DRAWERS[kind](rng, st)
    elif kind == "empty":
        left, top, right, bottom, _ = _region(st)
        xt = _value_ticks(0.0, 1.0, left, right)[0] if rng.random() < 0.5 else (np.zeros(0), [])
        yt = _value_ticks(0.0, 1.0, bottom, top)[0] if len(xt[1]) else (np.zeros(0), [])
        pixels = _axes(st, xt, yt)[0].to_uint8()
    else:
        return Image.fromarray(_texture(rng), mode="RGB")
    image = Image.fromarray(pixels, mode="RGB")
    if st.border or st.rescale != 1.0 or st.jpeg_quality:
        image = degrade(image, st)
    return image
