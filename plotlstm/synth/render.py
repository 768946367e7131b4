"""Fast rasteriser of R's "Residuals vs Fitted" plot (``plot(lm(y ~ .), which = 1)``).

Everything is drawn into a float RGB numpy canvas, without matplotlib:

* points: a pre-rendered anti-aliased marker sprite (one per quarter-pixel phase) is stamped for
  all points at once with ``numpy.bincount``; overlapping marks composite like cairo's "over"
  (coverage ``1 - prod(1 - a_i)``, accumulated as a sum of logs);
* the smoother: R's ``lowess`` (span 2/3, 3 robustness iterations, delta 1 % of the x range)
  computed by statsmodels (:func:`lowess`), or ggplot2's ``loess`` by scikit-misc (:func:`loess`),
  reduced to the corners of its piecewise-linear curve and drawn as a 4x supersampled Pillow polyline;
* horizontal/vertical lines (box, ticks, grid, zero line) with exact area coverage;
* text with Pillow/FreeType (DejaVu Sans from matplotlib's data), cached per string and size;
* the parts every plot of a style shares (box, title, axis labels) are drawn once and cached;
* PNG: Pillow's encoder at zlib level 1 (:func:`save_png`).

Geometry follows R's png device at 72 dpi: a text line is 1.2 x the font size (14.4 px),
margins ``mar = c(5.1, 4.1, 4.1, 2.1)`` lines, axes extended 4 % (``xaxs = "r"``), residual
range extended 8 % first as plot.lm does, ticks by R's ``pretty``.
"""

from __future__ import annotations

import ctypes
import io
import math
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from threadpoolctl import threadpool_limits

from plotlstm.synth.binned import stamp_counts
from plotlstm.synth.style import R_STYLE, Style

LINE_HEIGHT = 1.2
"""Height of one margin line, in font sizes (R: ``cin[2] = 0.2`` in for 12 pt)."""
PHASES = 4
"""Sub-pixel positions per axis for the marker sprite."""
SUPERSAMPLE = 4
STAMP_BY_COUNTS = 100_000
"""From this many points on, markers are stamped from per-pixel counts (:func:`plotlstm.synth.binned.stamp_counts`)."""
Smoother = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


# --------------------------------------------------------------------------- process tuning


def tune_process() -> None:
    """Settings for a process that only renders plots (generator workers, the benchmark).

    One BLAS thread, and glibc's malloc keeps large temporaries on its heap instead of fresh
    ``mmap``s, whose page faults otherwise cost as much as the drawing itself.
    """
    threadpool_limits(1, user_api="blas")
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-2, 16 << 20)  # M_TOP_PAD
    except (OSError, AttributeError):
        pass


# --------------------------------------------------------------------------- lowess


def lowess(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``lowess(x, y)`` by statsmodels: span 2/3, 3 iterations, delta 1 % of the x range.

    Returns statsmodels' sorted output ``(xs, ys)`` (one row per point, ties included).
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess as sm_lowess

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    delta = 0.01 * float(x.max() - x.min())
    with np.errstate(divide="ignore", invalid="ignore"):  # statsmodels warns on all-tied windows
        fit = sm_lowess(y, x, frac=2 / 3, it=3, delta=delta, return_sorted=True)
    return fit[:, 0], fit[:, 1]


LOESS_POINTS = 80
"""ggplot2's ``geom_smooth()`` evaluates its curve at 80 points across the x range."""


def loess(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ggplot2's and plotnine's ``geom_smooth()`` curve: loess (span 0.75, degree 2, no robustness iterations) by
    scikit-misc (the netlib code R's ``loess`` runs), at :data:`LOESS_POINTS` points across the x range.

    Where loess cannot fit (too few distinct x values: a factor's fit) the curve is :func:`lowess`'s.
    """
    from skmisc.loess import loess as sk_loess

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(np.unique(x)) >= 6:
        try:
            model = sk_loess(x, y, span=0.75, degree=2, family="gaussian")
            model.fit()
            grid = np.linspace(float(x.min()), float(x.max()), LOESS_POINTS)
            curve = np.asarray(model.predict(grid, stderror=False).values, dtype=np.float64)
            if np.isfinite(curve).all():
                return grid, curve
        except ValueError:  # near-singular local fits
            pass
    return lowess(x, y)


SMOOTHERS: dict[str, Smoother] = {"lowess": lowess, "loess": loess}
"""The curve a :class:`Style` asks for by ``smoother_method``."""


def curve_vertices(xs: np.ndarray, ys: np.ndarray, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """The corners of the polyline through sorted ``(xs, ys)``: ties and collinear points dropped.

    With ``delta`` the lowess curve is linear between its (about 100) fit points, so the few
    thousand rows statsmodels returns draw the same line as their corners. A point is dropped
    when it lies within ``tol`` times the y range of the chord between its neighbours.
    """
    ok = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[ok], ys[ok]
    if len(xs) > 1:
        first = np.concatenate(([True], xs[1:] != xs[:-1]))  # statsmodels gives ties one value
        xs, ys = xs[first], ys[first]
    if len(xs) <= 2:
        return xs, ys
    x0, x1, x2 = xs[:-2], xs[1:-1], xs[2:]
    y0, y1, y2 = ys[:-2], ys[1:-1], ys[2:]
    chord = y0 + (y2 - y0) * (x1 - x0) / (x2 - x0)
    scale = max(float(ys.max() - ys.min()), 1e-300)
    keep = np.concatenate(([True], np.abs(y1 - chord) > tol * scale, [True]))
    return xs[keep], ys[keep]


# --------------------------------------------------------------------------- axes


def pretty(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """Tick positions inside ``[lo, hi]`` as R's ``axTicks``/``pretty`` (high.u.bias 0.8, 1.7)."""
    dx = hi - lo
    if not np.isfinite(dx):
        return np.array([])
    if dx <= 0:
        cell = max(abs(lo), 1.0)
        cell = 0.25 * (9 + cell / 10 if cell > 10 else cell)
    else:
        cell = dx / n
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    h, h5 = 0.8, 1.7
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    eps = 1e-10 * unit
    first = math.ceil((lo - eps) / unit)
    last = math.floor((hi + eps) / unit)
    ticks = np.arange(first, last + 1) * unit
    ticks[np.abs(ticks) < 1e-14 * unit] = 0.0
    return ticks


def format_ticks(ticks: np.ndarray) -> list[str]:
    """Tick labels with a common number of decimals, as R's ``format`` does (``-`` as minus)."""
    if len(ticks) == 0:
        return []
    unit = float(np.min(np.diff(ticks))) if len(ticks) > 1 else max(abs(float(ticks[0])), 1.0)
    decimals = max(0, -math.floor(math.log10(unit) + 1e-9))
    big = float(np.max(np.abs(ticks)))
    if big >= 1e6 or (0 < big < 1e-4):
        return [_sci(v) for v in ticks]
    out = []
    for v in ticks:
        s = f"{v:.{decimals}f}"
        if float(s) == 0:
            s = s.lstrip("-")
        out.append(s)
    return out


def _sci(v: float) -> str:
    if v == 0:
        return "0e+00"
    m, e = f"{v:.6e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e):+03d}"


# --------------------------------------------------------------------------- rasterising


def _overlap(a0: np.ndarray | float, a1: np.ndarray | float, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    return np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0.0, None)


def _dash_pattern(dash: str, lw: float) -> tuple[float, float] | None:
    unit = max(lw, 0.75)
    if dash == "dotted":
        return (1.0 * unit, 3.0 * unit)
    if dash == "dashed":
        return (4.0 * unit, 4.0 * unit)
    return None


def _along(c0: int, c1: int, a: float, b: float, dash: tuple[float, float] | None) -> np.ndarray:
    """Coverage along a line from ``a`` to ``b`` of pixels ``c0..c1-1``, with an optional dash."""
    cells = np.arange(c0, c1, dtype=np.float64)
    if dash is None:
        return _overlap(a, b, cells, cells + 1)
    s = 8
    t = (cells[:, None] + (np.arange(s) + 0.5)[None, :] / s) - a
    on = (np.mod(t, dash[0] + dash[1]) < dash[0]) & (t >= 0) & (t <= b - a)
    return on.mean(axis=1)


class Canvas:
    """A float32 RGB image with coverage-based compositing helpers."""

    def __init__(self, width: int, height: int, background: tuple[int, int, int] | np.ndarray) -> None:
        self.w = width
        self.h = height
        self.a = np.empty((height, width, 3), dtype=np.float32)
        self.a[:] = background if isinstance(background, np.ndarray) else np.asarray(background, np.float32)

    def blend(
        self, y0: int, x0: int, cov: np.ndarray, color: tuple[int, int, int], alpha: float = 1.0
    ) -> None:
        """Composite ``color`` with per-pixel coverage ``cov`` whose top-left pixel is (y0, x0)."""
        hh, ww = cov.shape
        ya, xa = max(y0, 0), max(x0, 0)
        yb, xb = min(y0 + hh, self.h), min(x0 + ww, self.w)
        if ya >= yb or xa >= xb:
            return
        c = cov[ya - y0 : yb - y0, xa - x0 : xb - x0].astype(np.float32)
        if alpha != 1.0:
            c = c * np.float32(alpha)
        region = self.a[ya:yb, xa:xb]
        region += (np.asarray(color, dtype=np.float32) - region) * c[..., None]

    def fill_rect(self, x0: float, y0: float, x1: float, y1: float, color: tuple[int, int, int]) -> None:
        xi0, yi0 = int(math.floor(x0)), int(math.floor(y0))
        xi1, yi1 = int(math.ceil(x1)), int(math.ceil(y1))
        cx = _overlap(x0, x1, np.arange(xi0, xi1), np.arange(xi0, xi1) + 1)
        cy = _overlap(y0, y1, np.arange(yi0, yi1), np.arange(yi0, yi1) + 1)
        self.blend(yi0, xi0, np.outer(cy, cx), color)

    def hline(
        self, y: float, x0: float, x1: float, lw: float, color: tuple[int, int, int], dash: str = "solid"
    ) -> None:
        r0, r1 = int(math.floor(y - lw / 2)), int(math.ceil(y + lw / 2))
        c0, c1 = int(math.floor(x0)), int(math.ceil(x1))
        rows = np.arange(r0, r1, dtype=np.float64)
        cov = np.outer(
            _overlap(y - lw / 2, y + lw / 2, rows, rows + 1), _along(c0, c1, x0, x1, _dash_pattern(dash, lw))
        )
        self.blend(r0, c0, cov, color)

    def vline(
        self, x: float, y0: float, y1: float, lw: float, color: tuple[int, int, int], dash: str = "solid"
    ) -> None:
        c0, c1 = int(math.floor(x - lw / 2)), int(math.ceil(x + lw / 2))
        r0, r1 = int(math.floor(y0)), int(math.ceil(y1))
        cols = np.arange(c0, c1, dtype=np.float64)
        cov = np.outer(
            _along(r0, r1, y0, y1, _dash_pattern(dash, lw)), _overlap(x - lw / 2, x + lw / 2, cols, cols + 1)
        )
        self.blend(r0, c0, cov, color)

    def polyline(
        self,
        px: np.ndarray,
        py: np.ndarray,
        lw: float,
        color: tuple[int, int, int],
        clip: tuple[float, float, float, float],
    ) -> None:
        """Anti-aliased polyline (4x supersampled), clipped to ``clip = (x0, y0, x1, y1)``."""
        pad = lw + 2
        bx0 = int(math.floor(max(px.min() - pad, clip[0])))
        by0 = int(math.floor(max(py.min() - pad, clip[1])))
        bx1 = int(math.ceil(min(px.max() + pad, clip[2])))
        by1 = int(math.ceil(min(py.max() + pad, clip[3])))
        if bx1 <= bx0 or by1 <= by0:
            return
        s = SUPERSAMPLE
        img = Image.new("L", ((bx1 - bx0) * s, (by1 - by0) * s), 0)
        pts = np.column_stack(((px - bx0) * s, (py - by0) * s)).ravel().tolist()
        ImageDraw.Draw(img).line(pts, fill=255, width=max(1, round(lw * s)), joint="curve")
        m = np.asarray(img, dtype=np.float32).reshape(by1 - by0, s, bx1 - bx0, s).mean(axis=(1, 3)) / 255.0
        # clip to the plot region at sub-pixel precision
        cx = _overlap(clip[0], clip[2], np.arange(bx0, bx1), np.arange(bx0, bx1) + 1)
        cy = _overlap(clip[1], clip[3], np.arange(by0, by1), np.arange(by0, by1) + 1)
        self.blend(by0, bx0, m * np.outer(cy, cx), color)

    def polygon(
        self,
        px: np.ndarray,
        py: np.ndarray,
        color: tuple[int, int, int],
        alpha: float,
        clip: tuple[float, float, float, float],
    ) -> None:
        """Anti-aliased filled polygon (4x supersampled) with opacity ``alpha``, clipped like :meth:`polyline`."""
        bx0 = int(math.floor(max(px.min() - 1, clip[0])))
        by0 = int(math.floor(max(py.min() - 1, clip[1])))
        bx1 = int(math.ceil(min(px.max() + 1, clip[2])))
        by1 = int(math.ceil(min(py.max() + 1, clip[3])))
        if bx1 <= bx0 or by1 <= by0:
            return
        s = SUPERSAMPLE
        img = Image.new("L", ((bx1 - bx0) * s, (by1 - by0) * s), 0)
        pts = np.column_stack(((px - bx0) * s, (py - by0) * s)).ravel().tolist()
        ImageDraw.Draw(img).polygon(pts, fill=255)
        m = np.asarray(img, dtype=np.float32).reshape(by1 - by0, s, bx1 - bx0, s).mean(axis=(1, 3)) / 255.0
        cx = _overlap(clip[0], clip[2], np.arange(bx0, bx1), np.arange(bx0, bx1) + 1)
        cy = _overlap(clip[1], clip[3], np.arange(by0, by1), np.arange(by0, by1) + 1)
        self.blend(by0, bx0, m * np.outer(cy, cx), color, alpha)

    def text(
        self,
        s: str,
        x: float,
        y: float,
        size: float,
        font: str,
        color: tuple[int, int, int],
        ha: float = 0.5,
        rotate: bool = False,
    ) -> None:
        """Draw ``s`` with its baseline through (x, y); ``ha`` 0/0.5/1 = left/centre/right.

        With ``rotate`` the text reads bottom to top (R's y label), the baseline is the vertical
        line through x and ``ha`` applies along it.
        """
        if not s:
            return
        mask, left, top, advance = _text_mask(s, _font_px(size), font)
        if not rotate:
            x0 = x - ha * advance
            self.blend(int(round(y + top)), int(round(x0 + left)), mask, color)
        else:
            start = y + ha * advance  # the string runs upwards from here
            rot = np.rot90(mask)
            self.blend(int(round(start - left - mask.shape[1])), int(round(x + top)), rot, color)

    def to_uint8(self) -> np.ndarray:
        # blends are convex combinations of 0..255 colours, so no clipping is needed
        out = self.a + np.float32(0.5)
        return out.astype(np.uint8)


def _font_px(size: float) -> int:
    return max(4, int(round(size)))


@lru_cache(maxsize=16)
def _font_path(name: str) -> str:
    if os.path.isabs(name) and os.path.exists(name):
        return name
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if path.exists():
        return str(path)
    from matplotlib import font_manager

    return font_manager.findfont(Path(name).stem)


@lru_cache(maxsize=64)
def _font(name: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(name), px)


@lru_cache(maxsize=8192)
def _text_mask(s: str, px: int, font: str) -> tuple[np.ndarray, int, int, float]:
    """Coverage mask of ``s``; (mask, left, top) is its offset from the baseline start; advance."""
    f = _font(font, px)
    left, top, right, bottom = f.getbbox(s, anchor="ls")
    img = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(img).text((-left, -top), s, fill=255, font=f, anchor="ls")
    mask = np.asarray(img, dtype=np.float32) / 255.0
    mask.setflags(write=False)
    return mask, left, top, float(f.getlength(s))


@lru_cache(maxsize=128)
def _cap_height(px: int, font: str) -> float:
    return float(-_font(font, px).getbbox("0", anchor="ls")[1])


# --------------------------------------------------------------------------- markers


def _marker_coverage(marker: str, radius: float, lw: float, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Coverage in [0, 1] of sample points at offsets (dx, dy) from the marker centre."""
    d = np.hypot(dx, dy)
    half = lw / 2
    if marker == "circle":
        return (np.abs(d - radius) <= half).astype(np.float64)
    if marker == "ring":
        return (np.abs(d - radius) <= max(half, radius * 0.3)).astype(np.float64)
    if marker == "dot":
        return (d <= radius + half).astype(np.float64)
    if marker == "square":
        m = np.maximum(np.abs(dx), np.abs(dy))
        return (np.abs(m - radius) <= half).astype(np.float64)
    if marker == "plus":
        arm = np.maximum(np.abs(dx), np.abs(dy)) <= radius + half
        return (((np.abs(dx) <= half) | (np.abs(dy) <= half)) & arm).astype(np.float64)
    if marker == "cross":
        u, v = (dx + dy) / np.sqrt(2), (dx - dy) / np.sqrt(2)
        arm = np.maximum(np.abs(u), np.abs(v)) <= radius + half
        return (((np.abs(u) <= half) | (np.abs(v) <= half)) & arm).astype(np.float64)
    raise ValueError(f"marker: unknown marker {marker!r}")


@lru_cache(maxsize=64)
def _sprites(
    marker: str, radius: float, lw: float, alpha: float
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per sub-pixel phase: (flat offset parts (dy, dx), log(1 - alpha * coverage)) of its nonzero pixels."""
    reach = int(math.ceil(radius + lw + 1))
    ss = 8
    offs = np.arange(-reach, reach + 1)
    sub = (np.arange(ss) + 0.5) / ss
    out = []
    for qy in range(PHASES):
        for qx in range(PHASES):
            sx = (offs[:, None] + sub[None, :]).ravel() - (qx + 0.5) / PHASES
            sy = (offs[:, None] + sub[None, :]).ravel() - (qy + 0.5) / PHASES
            cov = _marker_coverage(marker, radius, lw, sx[None, :], sy[:, None])
            cov = cov.reshape(len(offs), ss, len(offs), ss).mean(axis=(1, 3))
            dy, dx = np.nonzero(cov > 1e-6)
            logw = np.log1p(-np.clip(alpha * cov[dy, dx], 0.0, 0.999))
            out.append((np.stack([dy - reach, dx - reach]), logw))
    return tuple(out)


def _points_coverage(
    px: np.ndarray, py: np.ndarray, style: Style, x0: int, y0: int, w: int, h: int
) -> np.ndarray:
    """Coverage (h, w) of all markers in the pixel window whose top-left pixel is (y0, x0).

    Points are grouped by sub-pixel phase; each group stamps its phase's sprite with one
    ``bincount`` over all (point, sprite pixel) pairs, summing log(1 - coverage).
    """
    sprites = _sprites(
        style.marker, float(style.marker_radius), float(style.marker_linewidth), float(style.point_alpha)
    )
    pad = int(max(np.abs(sp[0]).max() for sp in sprites)) + 1
    wp, hp = w + 2 * pad, h + 2 * pad
    fx = px - (x0 - pad)
    fy = py - (y0 - pad)
    keep = (fx >= pad - 1) & (fx < wp - pad + 1) & (fy >= pad - 1) & (fy < hp - pad + 1)
    fx, fy = fx[keep], fy[keep]
    bx = fx.astype(np.int64)
    by = fy.astype(np.int64)
    phase = np.minimum(((fy - by) * PHASES).astype(np.int64), PHASES - 1) * PHASES + np.minimum(
        ((fx - bx) * PHASES).astype(np.int64), PHASES - 1
    )
    base = by * wp + bx
    if len(base) >= STAMP_BY_COUNTS:
        counts = np.bincount(phase * (hp * wp) + base, minlength=PHASES * PHASES * hp * wp)
        acc = stamp_counts(counts.reshape(PHASES * PHASES, hp, wp).astype(np.float64), sprites, hp, wp)
        acc = acc[pad : pad + h, pad : pad + w].astype(np.float32)
        np.expm1(acc, out=acc)
        np.negative(acc, out=acc)
        return acc
    order = np.argsort(phase, kind="stable")
    bounds = np.searchsorted(phase[order], np.arange(PHASES * PHASES + 1))
    sizes = [len(sprites[q][1]) * int(bounds[q + 1] - bounds[q]) for q in range(PHASES * PHASES)]
    idx = np.empty(sum(sizes), dtype=np.int64)
    weights = np.empty(sum(sizes), dtype=np.float64)
    at = 0
    for q in range(PHASES * PHASES):
        if sizes[q] == 0:
            continue
        sel = order[bounds[q] : bounds[q + 1]]
        offsets, logw = sprites[q]
        k = len(logw)
        np.add(
            base[sel][:, None],
            (offsets[0] * wp + offsets[1])[None, :],
            out=idx[at : at + sizes[q]].reshape(-1, k),
        )
        weights[at : at + sizes[q]].reshape(-1, k)[:] = logw
        at += sizes[q]
    acc = np.bincount(idx, weights=weights, minlength=hp * wp)
    acc = acc[: hp * wp].reshape(hp, wp)[pad : pad + h, pad : pad + w].astype(np.float32)
    np.expm1(acc, out=acc)
    np.negative(acc, out=acc)
    return acc


# --------------------------------------------------------------------------- the plot


def plot_limits(
    fitted: np.ndarray, residuals: np.ndarray, labels: bool = True
) -> tuple[float, float, float, float]:
    """User coordinates (x0, x1, y0, y1) as R's plot.lm and ``xaxs = yaxs = "r"`` give."""
    xlo, xhi = float(np.min(fitted)), float(np.max(fitted))
    ylo, yhi = float(np.min(residuals)), float(np.max(residuals))
    if labels:  # plot.lm: ylim <- extendrange(r = range(r), f = 0.08) when id.n > 0
        ext = 0.08 * (yhi - ylo)
        ylo, yhi = ylo - ext, yhi + ext

    def expand(lo: float, hi: float) -> tuple[float, float]:
        if hi == lo:
            d = 0.4 * max(abs(lo), 1.0) if lo != 0 else 1.0  # R's fallback for a zero range
            return lo - d, hi + d
        d = 0.04 * (hi - lo)
        return lo - d, hi + d

    return (*expand(xlo, xhi), *expand(ylo, yhi))


def _region(st: Style) -> tuple[float, float, float, float, float]:
    """(left, top, right, bottom, line height) of the plot region in px."""
    lh = LINE_HEIGHT * st.font_size
    mb, ml, mt, mr = (m * lh for m in st.margins)
    return ml, mt, st.width - mr, st.height - mb, lh


@lru_cache(maxsize=32)
def _static_layer(st: Style) -> np.ndarray:
    """What is the same in every plot of a style: background, panel, box, title, axis labels."""
    left, top, right, bottom, lh = _region(st)
    cv = Canvas(st.width, st.height, st.background)
    if st.panel != st.background:
        cv.fill_rect(left, top, right, bottom, st.panel)
    alw = st.axis_linewidth
    cv.hline(bottom, left - alw / 2, right + alw / 2, alw, st.axis_color)
    cv.vline(left, top - alw / 2, bottom + alw / 2, alw, st.axis_color)
    if st.box:
        cv.hline(top, left - alw / 2, right + alw / 2, alw, st.axis_color)
        cv.vline(right, top - alw / 2, bottom + alw / 2, alw, st.axis_color)
    font, fs, col = st.font, st.font_size, st.text_color
    if st.title_align == 0.5:
        cv.text(st.title, (left + right) / 2, top - 0.45 * lh, fs, font, col)
    else:
        cv.text(
            st.title, left + st.title_align * (right - left), top - 0.45 * lh, fs, font, col, st.title_align
        )
    cv.text(st.xlabel, (left + right) / 2, bottom + 3.8 * lh, fs, font, col)
    cv.text(st.sublabel, (left + right) / 2, bottom + 4.8 * lh, fs, font, col)
    cv.text(st.ylabel, left - (st.margins[1] - 0.9) * lh, (top + bottom) / 2, fs, font, col, rotate=True)
    cv.a.setflags(write=False)
    return cv.a


def draw_grid(cv: Canvas, st: Style, xtp: np.ndarray, ytp: np.ndarray) -> None:
    """The style's grid lines (if any) at tick pixels ``xtp`` and ``ytp``."""
    left, top, right, bottom, _ = _region(st)
    if st.grid:
        for v in xtp:
            cv.vline(float(v), top, bottom, st.grid_linewidth, st.grid_color)
        for v in ytp:
            cv.hline(float(v), left, right, st.grid_linewidth, st.grid_color)


def draw_ticks(
    cv: Canvas, st: Style, xt: tuple[np.ndarray, list[str]], yt: tuple[np.ndarray, list[str]]
) -> None:
    """Tick marks and labels: ``xt``/``yt`` are tick pixels and their labels; R's layout."""
    left, _, _, bottom, lh = _region(st)
    alw = st.axis_linewidth
    tl = st.tick_length
    if st.ticks and tl != 0:
        for v in xt[0]:
            cv.vline(float(v), min(bottom, bottom + tl), max(bottom, bottom + tl), alw, st.axis_color)
        for v in yt[0]:
            cv.hline(float(v), min(left, left - tl), max(left, left - tl), alw, st.axis_color)
    font, fs, col = st.font, st.font_size, st.text_color
    cap = _cap_height(_font_px(fs), font)
    gap = max(tl, 0.0)
    # x tick labels: R's mtext(side = 1, line = 1): baseline at bottom + (1 + 0.8) lines
    base_x = bottom + max(1.8 * lh, gap + 0.4 * lh + cap)
    for v, s in zip(*xt, strict=True):
        cv.text(s, float(v), base_x, fs, font, col, ha=0.5)
    if st.rotate_ytick_labels:
        base_y = left - max(1.2 * lh, gap + 0.5 * lh)
        for v, s in zip(*yt, strict=True):
            cv.text(s, base_y, float(v), fs, font, col, ha=0.5, rotate=True)
    else:
        for v, s in zip(*yt, strict=True):
            cv.text(s, left - gap - 0.4 * lh, float(v) + cap / 2, fs, font, col, ha=1.0)


def render_array(
    fitted: np.ndarray, residuals: np.ndarray, style: Style = R_STYLE, smoother: Smoother | None = None
) -> np.ndarray:
    """Draw the Residuals-vs-Fitted plot; returns an (height, width, 3) uint8 RGB array.

    ``smoother(x, y)`` gives the red curve's vertices; None is the style's ``smoother_method`` (:data:`SMOOTHERS`).
    """
    fitted = np.asarray(fitted, dtype=np.float64)
    residuals = np.asarray(residuals, dtype=np.float64)
    st = style
    left, top, right, bottom, lh = _region(st)
    ux0, ux1, uy0, uy1 = plot_limits(fitted, residuals, st.labels)
    sx_, sy_ = (right - left) / (ux1 - ux0), (bottom - top) / (uy1 - uy0)

    def tx(v: np.ndarray | float) -> np.ndarray:
        return left + (np.asarray(v) - ux0) * sx_

    def ty(v: np.ndarray | float) -> np.ndarray:
        return bottom - (np.asarray(v) - uy0) * sy_

    cv = Canvas(st.width, st.height, _static_layer(st))
    xticks = pretty(ux0, ux1)
    yticks = pretty(uy0, uy1)
    xtp, ytp = tx(xticks), ty(yticks)
    draw_grid(cv, st, xtp, ytp)

    # points, clipped to the plot region (R's xpd = FALSE)
    px, py = tx(fitted), ty(residuals)
    x0i, y0i = int(math.ceil(left)), int(math.ceil(top))
    wi, hi = int(math.floor(right)) - x0i, int(math.floor(bottom)) - y0i
    cv.blend(y0i, x0i, _points_coverage(px, py, st, x0i, y0i, wi, hi), st.point_color)

    clip = (left, top, right, bottom)
    if st.smoother and len(fitted) >= 2 and np.ptp(fitted) > 0:
        if smoother is None and st.smoother_method not in SMOOTHERS:
            raise ValueError(
                f"style.smoother_method: use one of {', '.join(SMOOTHERS)}, got {st.smoother_method!r}"
            )
        sx, sy = curve_vertices(*(smoother or SMOOTHERS[st.smoother_method])(fitted, residuals))
        if st.band and len(sx) >= 2:
            half = band_halfwidth(fitted, residuals, sx)
            bx = np.concatenate([sx, sx[::-1]])
            by = np.concatenate([sy + half, (sy - half)[::-1]])
            cv.polygon(tx(bx), ty(by), st.band_color, st.band_alpha, clip)
        cv.polyline(tx(sx), ty(sy), st.smoother_linewidth, st.smoother_color, clip)
    if st.zero_line and uy0 <= 0 <= uy1:
        cv.hline(float(ty(0.0)), left, right, st.zero_linewidth, st.zero_line_color, st.zero_line_dash)

    draw_ticks(cv, st, (xtp, format_ticks(xticks)), (ytp, format_ticks(yticks)))
    font, fs, col = st.font, st.font_size, st.text_color

    if st.labels and len(residuals) >= 1:
        k = min(3, len(residuals))
        top3 = np.argpartition(-np.abs(residuals), k - 1)[:k]
        show = top3[np.lexsort((top3, -np.abs(residuals[top3])))]
        lx, ly = px[show], py[show]
        mid = (lx.min() + lx.max()) / 2
        lfs = st.label_font_size
        lcap = _cap_height(_font_px(lfs), font)
        off = 0.25 * 0.9 * fs
        for i, xx, yy in zip(show, lx, ly, strict=True):
            right_side = not (xx > mid)  # R's text.id: pos 4 (right) unless x > mean(range(x))
            cv.text(
                str(int(i) + 1),
                float(xx + off if right_side else xx - off),
                float(yy + lcap / 2),
                lfs,
                font,
                col,
                ha=0.0 if right_side else 1.0,
            )
    return cv.to_uint8()


def band_halfwidth(fitted: np.ndarray, residuals: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Half-width of a smoother's 95 % band at ``at``: 1.96 residual sd over the root of the local count.

    The local count is the number of points within 10 % of the x range: the band is thin where the points
    are dense and opens up at the sparse ends, as ggplot2's loess band does.
    """
    xs = np.sort(fitted)
    h = 0.1 * float(xs[-1] - xs[0])
    count = np.searchsorted(xs, at + h, side="right") - np.searchsorted(xs, at - h, side="left")
    return 1.96 * 2.0 * float(np.std(residuals)) / np.sqrt(np.maximum(count, 2))


def degrade(image: Image.Image, style: Style) -> Image.Image:
    """The flaws of a real upload that ``style`` asks for: a screenshot border, shrinking, JPEG."""
    if style.border > 0:
        framed = Image.new(
            "RGB", (image.width + 2 * style.border, image.height + 2 * style.border), style.border_color
        )
        framed.paste(image, (style.border, style.border))
        image = framed
    if style.rescale != 1.0:
        size = (max(1, round(image.width * style.rescale)), max(1, round(image.height * style.rescale)))
        image = image.resize(size, Image.Resampling.BOX)
    if style.jpeg_quality > 0:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=int(style.jpeg_quality))
        buf.seek(0)
        with Image.open(buf) as decoded:
            image = decoded.convert("RGB")
    return image


def render(
    fitted: np.ndarray, residuals: np.ndarray, style: Style = R_STYLE, smoother: Smoother | None = None
) -> Image.Image:
    """Draw the plot as a Pillow RGB image (``smoother`` as in :func:`render_array`; with the style's
    degradations, if any)."""
    image = Image.fromarray(render_array(fitted, residuals, style, smoother), mode="RGB")
    if style.border or style.rescale != 1.0 or style.jpeg_quality:
        image = degrade(image, style)
    return image


def save_png(image: Image.Image | np.ndarray, path: Any, compress_level: int = 1) -> None:
    """Write an RGB PNG with Pillow (zlib ``compress_level``) to a path or a binary file object."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(path, format="PNG", compress_level=compress_level)
