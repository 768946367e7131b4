"""The training class ``unrecognized``: images that are not residual-vs-fitted plots, drawn by the package.

A model trained with this class answers ``unrecognized`` for pictures it should not read. The images come from
this module's own drawing (the renderer's canvas, Pillow, numpy), never from matplotlib or seaborn, so that the
renderers benchmark (``benchmarks/renderers.py``), whose non-plots matplotlib and seaborn draw, measures how
the rule generalises. Image ``index`` depends only on ``(seed, index)`` and the style option; its kind cycles
through :data:`KINDS`:

* ``qq``: a normal QQ plot of a normal, heavy-tailed or skewed sample (points along a rising line);
* ``trend``: y against x with a clear linear or exponential trend (a residual plot has none);
* ``histogram`` and ``bars``: bar charts;
* ``lines``: one to three line series (time series, curves) without points;
* ``empty``: the axes of a plot without data;
* ``texture``: a photo-like image (blobs, waves, gradients, noise), no axes.

Each kind except ``texture`` is drawn in the plot's style (``r``, ``general``, ...), so that the look alone
never tells the class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from plotlstm.synth.render import Canvas, _region, _static_layer, degrade, render_array
from plotlstm.synth.style import PALETTE, Style, resolve_style

NEGATIVE_CLASS = "unrecognized"
NEGATIVE_CODE = 1000
"""Takes the place of a class code in the seed: independent of every plot class's plots."""
KINDS = ("qq", "trend", "histogram", "bars", "lines", "empty", "texture", "qq", "trend")


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


def _trend(rng: np.random.Generator, st: Style) -> np.ndarray:
    n = int(rng.integers(30, 5000))
    x = rng.uniform(0, float(rng.uniform(1, 100)), n)
    u = (x - x.min()) / max(float(np.ptp(x)), 1e-9)
    slope = float(rng.choice([-1, 1])) * float(rng.uniform(0.6, 3.0))
    shape = np.exp(2.5 * u) / np.exp(2.5) if rng.random() < 0.3 else u
    y = 5.0 + slope * shape * 10 + rng.normal(0, float(rng.uniform(0.3, 2.5)), n)
    st = st.replace(title="", xlabel="x", ylabel="y", zero_line=False, labels=False)
    return render_array(x, y, st)


def _axes_canvas(st: Style) -> tuple[Canvas, tuple[float, float, float, float]]:
    left, top, right, bottom, _ = _region(st)
    return Canvas(st.width, st.height, _static_layer(st)), (left, top, right, bottom)


def _bars(rng: np.random.Generator, st: Style, histogram: bool) -> np.ndarray:
    st = st.replace(title="" if rng.random() < 0.5 else "Histogram", xlabel="x", ylabel="count")
    cv, (left, top, right, bottom) = _axes_canvas(st)
    if histogram:
        heights, _ = np.histogram(_sample(rng, int(rng.integers(100, 5000))), bins=int(rng.integers(8, 50)))
        heights = heights.astype(float)
        gap = 0.0 if rng.random() < 0.6 else 0.1
    else:
        heights = rng.uniform(0.1, 1.0, int(rng.integers(2, 12)))
        gap = float(rng.uniform(0.1, 0.4))
    k = len(heights)
    span = (right - left) * 0.92
    width = span / k
    color = PALETTE[int(rng.integers(len(PALETTE)))] if rng.random() < 0.8 else (190, 190, 190)
    outline = bool(rng.random() < 0.5)
    peak = max(float(heights.max()), 1e-9)
    for i, h in enumerate(heights):
        x0 = left + 0.04 * (right - left) + i * width + gap * width / 2
        x1 = x0 + width * (1 - gap)
        y0 = bottom - (bottom - top) * 0.92 * h / peak
        if x1 - x0 > 0.5 and bottom - y0 > 0.5:
            cv.fill_rect(x0, y0, x1, bottom, color)
            if outline:
                cv.vline(x0, y0, bottom, 1.0, (0, 0, 0))
                cv.vline(x1, y0, bottom, 1.0, (0, 0, 0))
                cv.hline(y0, x0, x1, 1.0, (0, 0, 0))
    return cv.to_uint8()


def _lines(rng: np.random.Generator, st: Style) -> np.ndarray:
    st = st.replace(title="", xlabel=("time" if rng.random() < 0.5 else "x"), ylabel="value")
    cv, (left, top, right, bottom) = _axes_canvas(st)
    n = int(rng.integers(20, 500))
    t = np.linspace(left, right, n)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.5:
            y = np.cumsum(rng.normal(size=n))
        else:
            y = np.sin(np.linspace(0, float(rng.uniform(1, 12)), n) + float(rng.uniform(0, 6))) * float(
                rng.uniform(0.3, 1.0)
            ) + np.linspace(0, float(rng.normal()), n)
        y = (y - y.min()) / max(float(np.ptp(y)), 1e-9)
        py = bottom - (0.05 + 0.9 * y) * (bottom - top)
        color = PALETTE[int(rng.integers(len(PALETTE)))]
        cv.polyline(t, py, float(rng.uniform(0.75, 2.5)), color, (left, top, right, bottom))
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


def make_negative(seed: int, index: int, style: Any = "r") -> Image.Image:
    """Non-plot ``index`` of the class ``unrecognized``: its kind is ``KINDS[index % len(KINDS)]``."""
    rng = negative_rng(seed, index)
    kind = KINDS[index % len(KINDS)]
    st = resolve_style(style, rng)
    if kind == "qq":
        pixels = _qq(rng, st)
    elif kind == "trend":
        pixels = _trend(rng, st)
    elif kind in ("histogram", "bars"):
        pixels = _bars(rng, st, histogram=kind == "histogram")
    elif kind == "lines":
        pixels = _lines(rng, st)
    elif kind == "empty":
        pixels = _axes_canvas(st)[0].to_uint8()
    else:
        return Image.fromarray(_texture(rng), mode="RGB")
    image = Image.fromarray(pixels, mode="RGB")
    if st.border or st.rescale != 1.0 or st.jpeg_quality:
        image = degrade(image, st)
    return image
