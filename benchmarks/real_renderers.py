"""Residual-vs-fitted plots (and non-plots) drawn by the real libraries, for ``benchmarks/renderers.py``.

Benchmark-only code: matplotlib, seaborn, plotnine (the ggplot2 look) and, through ``Rscript``, R's base
graphics (``plot(lm, which = 1)``) and ggplot2. Every renderer draws the residuals and fitted values of the
package's own simulation (:func:`plotlstm.synth.simulate.simulate`, main-effects OLS); each plot's look (size,
dpi, theme, marker size, alpha, smoother) is drawn from its own rng, so a benchmark run is reproducible.
R gets ``y`` and the fitted values and refits ``lm(y ~ .)`` on the fitted values alone: the same OLS fit (a
least-squares fit of ``y`` on its own fitted values has slope 1 and intercept 0), so R's plot shows the same
residuals against the same fitted values.

Negatives (images that are not residual-vs-fitted plots) are drawn by matplotlib and seaborn only, never by the
package's generator: a QQ plot, a histogram, a scatter of y against x with a regression line, a bar chart, a
box plot, a line chart, a photo-like smooth noise image, a blank image and a 1 x 1 image.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

RendererFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], Image.Image]

# Figure sizes people use: matplotlib's default 6.4 x 4.8 in at dpi 100, squares, wide, notebook-ish.
MPL_SIZES = ((6.4, 4.8), (6.0, 4.0), (5.0, 5.0), (8.0, 6.0), (4.0, 3.0), (7.0, 5.0), (6.0, 6.0))
MPL_DPIS = (72, 80, 100, 100, 100, 120)


def _mpl() -> object:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _to_image(fig: object, dpi: float) -> Image.Image:
    plt = _mpl()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[attr-defined]
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


def _pick(rng: np.random.Generator, options: Sequence[object]) -> object:
    return options[int(rng.integers(len(options)))]


def _lowess(fitted: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    from statsmodels.nonparametric.smoothers_lowess import lowess

    return lowess(residuals, fitted, frac=2 / 3, it=3, delta=0.01 * float(np.ptp(fitted)))


# --------------------------------------------------------------------------- residual plots


def matplotlib_plot(fitted: np.ndarray, residuals: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Plain matplotlib defaults as an analyst writes them: ``scatter``, ``axhline``, often a lowess line."""
    plt = _mpl()
    plt.style.use("default")
    size, dpi = _pick(rng, MPL_SIZES), _pick(rng, MPL_DPIS)
    fig, ax = plt.subplots(figsize=size)
    s = float(_pick(rng, (4, 9, 16, 20, 36)))
    alpha = float(_pick(rng, (1.0, 1.0, 0.5, 0.3)))
    if rng.random() < 0.3:
        ax.scatter(fitted, residuals, s=s, facecolors="none", edgecolors="C0", alpha=alpha)
    else:
        ax.scatter(fitted, residuals, s=s, alpha=alpha)
    ax.axhline(0, color=_pick(rng, ("k", "grey", "r")), ls=_pick(rng, ("--", ":", "-")), lw=1)
    if rng.random() < 0.6:
        sm = _lowess(fitted, residuals)
        ax.plot(sm[:, 0], sm[:, 1], color=_pick(rng, ("C1", "r", "k")), lw=float(_pick(rng, (1, 1.5, 2))))
    ax.set_xlabel(_pick(rng, ("Fitted values", "fitted", "Predicted", "y_hat")))
    ax.set_ylabel(_pick(rng, ("Residuals", "residuals", "Residual")))
    if rng.random() < 0.6:
        ax.set_title(_pick(rng, ("Residuals vs Fitted", "Residual plot", "Residuals")))
    if rng.random() < 0.2:
        ax.grid(True, alpha=0.5)
    fig.tight_layout()
    return _to_image(fig, dpi)


SEABORN_THEMES = ("darkgrid", "whitegrid", "white", "ticks", "dark")
SEABORN_CONTEXTS = ("notebook", "paper", "talk")


def seaborn_plot(fitted: np.ndarray, residuals: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """``seaborn.residplot`` with and without lowess, in seaborn's themes and contexts.

    ``residplot(x=fitted, y=residuals)`` regresses the residuals on the fitted values again; the slope and
    intercept of that fit are zero (OLS residuals are orthogonal to the fitted values and the constant), so it
    plots the given residuals.
    """
    import seaborn as sns

    plt = _mpl()
    sns.set_theme(style=_pick(rng, SEABORN_THEMES), context=_pick(rng, SEABORN_CONTEXTS))
    size, dpi = _pick(rng, MPL_SIZES), _pick(rng, MPL_DPIS)
    fig, ax = plt.subplots(figsize=size)
    lowess = bool(rng.random() < 0.6)
    kws = {"alpha": float(_pick(rng, (0.3, 0.5, 0.8, 1.0))), "s": float(_pick(rng, (5, 10, 20, 30)))}
    line = {"color": _pick(rng, ("r", "C1", "k")), "lw": float(_pick(rng, (1, 1.5, 2)))}
    sns.residplot(x=fitted, y=residuals, lowess=lowess, ax=ax, scatter_kws=kws, line_kws=line)
    ax.set_xlabel(_pick(rng, ("Fitted values", "fitted", "Predicted")))
    ax.set_ylabel(_pick(rng, ("Residuals", "residuals")))
    if rng.random() < 0.5:
        ax.set_title(_pick(rng, ("Residuals vs Fitted", "Residual plot")))
    fig.tight_layout()
    image = _to_image(fig, dpi)
    sns.reset_orig()
    return image


PLOTNINE_THEMES = ("theme_gray", "theme_gray", "theme_bw", "theme_minimal", "theme_classic", "theme_light")


def plotnine_plot(fitted: np.ndarray, residuals: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The ggplot2 look by plotnine: grey panel, white grid, translucent points, loess with its band."""
    import pandas as pd
    import plotnine as p9

    df = pd.DataFrame({"fitted": fitted, "residuals": residuals})
    theme = getattr(p9, str(_pick(rng, PLOTNINE_THEMES)))()
    alpha = float(_pick(rng, (0.2, 0.3, 0.5, 1.0)))
    size = float(_pick(rng, (0.5, 1.0, 1.5)))
    plot = p9.ggplot(df, p9.aes("fitted", "residuals")) + p9.geom_point(alpha=alpha, size=size)
    plot += p9.geom_hline(yintercept=0, linetype=str(_pick(rng, ("dashed", "solid", "dotted"))))
    if rng.random() < 0.8:
        method = "loess" if len(fitted) <= 3000 else "lowess"  # skmisc's loess band costs O(n^2) memory
        plot += p9.geom_smooth(method=method, se=method == "loess", color="blue")
    plot += p9.labs(x=str(_pick(rng, ("Fitted values", "fitted", ".fitted"))), y="Residuals")
    if rng.random() < 0.5:
        plot += p9.ggtitle("Residuals vs Fitted")
    w, h = _pick(rng, ((6.4, 4.8), (5, 5), (7, 5), (4, 4), (8, 6)))
    plot += theme + p9.theme(figure_size=(w, h))
    dpi = int(_pick(rng, (72, 100, 150)))
    buf = io.BytesIO()
    plot.save(buf, format="png", dpi=dpi, verbose=False)
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


# --------------------------------------------------------------------------- R

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
jobs <- read.csv(args[1], stringsAsFactors = FALSE)
use_gg <- any(jobs$kind == "ggplot2")
if (use_gg) suppressPackageStartupMessages(library(ggplot2))
for (i in seq_len(nrow(jobs))) {
  j <- jobs[i, ]
  d <- read.csv(j$data)
  fit <- lm(y ~ ., data = d)
  png(j$out, width = j$width, height = j$height, res = j$res, type = "cairo")
  if (j$kind == "base") {
    plot(fit, which = 1)
  } else {
    df <- data.frame(fitted = fitted(fit), residuals = resid(fit))
    g <- ggplot(df, aes(fitted, residuals)) + geom_point(alpha = j$alpha) +
      geom_hline(yintercept = 0, linetype = "dashed")
    if (j$smooth) g <- g + geom_smooth(method = "loess", formula = y ~ x, se = j$se)
    g <- g + labs(x = "Fitted values", y = "Residuals", title = if (j$title == "-") NULL else j$title)
    if (j$theme == "bw") g <- g + theme_bw()
    if (j$theme == "minimal") g <- g + theme_minimal()
    print(g)
  }
  invisible(dev.off())
}
"""

R_SIZES = ((480, 480, 72), (480, 480, 72), (600, 400, 72), (800, 600, 96), (400, 400, 72), (700, 500, 100))


def r_available() -> bool:
    return shutil.which("Rscript") is not None


def r_has_ggplot2() -> bool:
    if not r_available():
        return False
    done = subprocess.run(
        ["Rscript", "-e", "quit(status = !requireNamespace('ggplot2', quietly = TRUE))"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def r_plots(
    kind: str, items: Sequence[tuple[np.ndarray, np.ndarray, np.random.Generator]]
) -> list[Image.Image]:
    """Draw ``items`` (y, fitted, rng) with R in one ``Rscript`` process: ``kind`` is ``base`` or ``ggplot2``."""
    import csv

    with tempfile.TemporaryDirectory(prefix="plotlstm-r-") as tmp:
        root = Path(tmp)
        rows = []
        for i, (y, fitted, rng) in enumerate(items):
            data = root / f"d{i}.csv"
            np.savetxt(
                data, np.column_stack([y, fitted]), delimiter=",", header="y,f", comments="", fmt="%.17g"
            )
            w, h, res = (
                _pick(rng, R_SIZES) if kind == "base" else _pick(rng, ((480, 480, 72), (700, 500, 96)))
            )
            rows.append(
                {
                    "kind": kind,
                    "data": str(data),
                    "out": str(root / f"p{i}.png"),
                    "width": w,
                    "height": h,
                    "res": res,
                    "alpha": _pick(rng, (0.3, 0.5, 1.0)),
                    "smooth": "TRUE" if rng.random() < 0.8 else "FALSE",
                    "se": "TRUE" if rng.random() < 0.7 else "FALSE",
                    "theme": _pick(rng, ("gray", "gray", "bw", "minimal")),
                    "title": _pick(rng, ("-", "Residuals vs Fitted")),
                }
            )
        jobs = root / "jobs.csv"
        with jobs.open("w", newline="") as f:
            writer = csv.DictWriter(f, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        script = root / "draw.R"
        script.write_text(R_SCRIPT)
        subprocess.run(["Rscript", str(script), str(jobs)], check=True, capture_output=True)
        out = []
        for row in rows:
            with Image.open(row["out"]) as img:
                out.append(img.convert("RGB"))
        return out


# --------------------------------------------------------------------------- negatives

NEGATIVE_KINDS = ("qq", "histogram", "scatter_trend", "bar", "box", "line", "photo", "blank", "one_pixel")


def negative(kind: str, rng: np.random.Generator) -> Image.Image:
    """One image that is not a residual-vs-fitted plot, drawn by matplotlib/seaborn (or numpy for photo-likes)."""
    if kind == "blank":
        value = int(_pick(rng, (255, 255, 0, 128, 240)))
        size = _pick(rng, ((480, 480), (640, 480), (100, 100)))
        return Image.new("RGB", size, (value, value, value))
    if kind == "one_pixel":
        return Image.new("RGB", (1, 1), tuple(int(v) for v in rng.integers(0, 256, 3)))
    if kind == "photo":
        return _photo_like(rng)
    import seaborn as sns

    plt = _mpl()
    if rng.random() < 0.5:
        sns.set_theme(style=_pick(rng, SEABORN_THEMES))
    else:
        plt.style.use("default")
    fig, ax = plt.subplots(figsize=_pick(rng, MPL_SIZES))
    n = int(rng.integers(50, 3000))
    if kind == "qq":
        from scipy import stats

        sample = rng.standard_normal(n) if rng.random() < 0.5 else rng.standard_t(3, n)
        stats.probplot(sample, dist="norm", plot=ax)
    elif kind == "histogram":
        data = rng.normal(size=n) if rng.random() < 0.5 else rng.lognormal(size=n)
        sns.histplot(data, ax=ax, kde=bool(rng.random() < 0.5), bins=int(rng.integers(10, 60)))
    elif kind == "scatter_trend":
        x = rng.uniform(0, 10, n)
        y = 2 + float(rng.uniform(-2, 2)) * x + rng.normal(0, float(rng.uniform(0.5, 5)), n)
        sns.regplot(x=x, y=y, ax=ax, scatter_kws={"s": 10, "alpha": 0.6})
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    elif kind == "bar":
        k = int(rng.integers(3, 12))
        sns.barplot(x=[f"g{i}" for i in range(k)], y=rng.uniform(1, 10, k), ax=ax)
    elif kind == "box":
        k = int(rng.integers(2, 6))
        sns.boxplot(data=[rng.normal(i, 1, 100) for i in range(k)], ax=ax)
    elif kind == "line":
        t = np.arange(n)
        ax.plot(t, np.cumsum(rng.normal(size=n)))
        ax.set_xlabel("time")
    else:
        raise ValueError(f"unknown negative kind {kind!r}")
    fig.tight_layout()
    image = _to_image(fig, _pick(rng, MPL_DPIS))
    sns.reset_orig()
    return image


def _photo_like(rng: np.random.Generator) -> Image.Image:
    """Smooth coloured noise plus a gradient (a stand-in for a photo), through matplotlib's ``imsave``."""
    plt = _mpl()
    h, w = int(rng.integers(200, 600)), int(rng.integers(200, 600))
    small = rng.random((max(2, h // 32), max(2, w // 32), 3))
    base = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC), float)
    grad = np.linspace(0, 1, w)[None, :, None] * rng.uniform(-80, 80, 3)
    noise = rng.normal(0, float(rng.uniform(2, 20)), (h, w, 3))
    pixels = np.clip(base + grad + noise, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    plt.imsave(buf, pixels, format="png")
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


PYTHON_RENDERERS: dict[str, RendererFn] = {
    "matplotlib": matplotlib_plot,
    "seaborn": seaborn_plot,
    "plotnine": plotnine_plot,
}
