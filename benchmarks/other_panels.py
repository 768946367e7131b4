"""R's other diagnostic panels, statsmodels' regression plots and plain scatters, drawn by the real libraries: how
often a checkpoint answers ``unrecognized`` (they are not residual-vs-fitted plots; the goal is >= 95 %).

From simulated OLS fits (seed 20,000, the reported draw, or ``--seed`` for a validation draw: no training set uses
them; skewed, normal and factor predictors):

* R's base graphics ``plot(lm, which = 2, 3, 4, 5)``: Normal Q-Q, Scale-Location, Cook's distance, Residuals vs
  Leverage (through ``Rscript``, where R is installed; skipped with a line where it is not);
* ggplot2's Scale-Location and Residuals vs Leverage (where R has ggplot2);
* statsmodels' ``qqplot``, ``plot_leverage_resid2``, ``influence_plot`` and ``plot_ccpr`` (a partial residual
  plot), drawn by matplotlib;
* y against x scatters with and without a fitted line (matplotlib, seaborn's ``regplot``).

A scatter of y against x, or a partial residual plot, whose trend is faint looks like a residual plot: for those
kinds the share is also given by the R^2 of the drawn trend (below 0.1, 0.1-0.3, 0.3 and up), and the last line
leaves out the trends below 0.1, which no picture tells from a residual plot (the goal's "visible" share).

Run: ``python benchmarks/other_panels.py [--ckpt RUN_OR_FILE ...] [--per-kind 40] [--cache DIR] [--seed S]``; each
``--ckpt`` (default: the bundled model) is measured on the same images, and each after the first against it
(images only one answered ``unrecognized``, McNemar's exact p).
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from PIL import Image
from statsmodels.stats.proportion import proportion_confint

from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.metrics import paired_comparison
from plotlstm.inference.unrecognized import UNRECOGNIZED

SEED = 20_000
"""The reported draw's seed; choices are made on others (``--seed``)."""
FAINT = 0.1
"""Trends (a scatter's, a partial residual plot's) whose R^2 is below this look like a residual plot's cloud."""
R_PANELS = {"r_qq": 2, "r_scale_location": 3, "r_cooks": 4, "r_leverage": 5}
GG_PANELS = ("gg_scale_location", "gg_leverage")
SM_PANELS = ("sm_qqplot", "sm_leverage_resid2", "sm_influence", "sm_ccpr")
SCATTERS = ("scatter", "scatter_line")

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
jobs <- read.csv(args[1], stringsAsFactors = FALSE)
if (any(startsWith(jobs$kind, "gg_"))) suppressPackageStartupMessages(library(ggplot2))
for (i in seq_len(nrow(jobs))) {
  j <- jobs[i, ]
  d <- read.csv(j$data)
  fit <- lm(y ~ ., data = d)
  png(j$out, width = j$width, height = j$height, res = j$res, type = "cairo")
  if (startsWith(j$kind, "r_")) {
    plot(fit, which = j$which)
  } else {
    df <- data.frame(fitted = fitted(fit), std = rstandard(fit), lev = hatvalues(fit))
    if (j$kind == "gg_scale_location") {
      g <- ggplot(df, aes(fitted, sqrt(abs(std)))) + geom_point() +
        geom_smooth(method = "loess", formula = y ~ x, se = FALSE) +
        labs(x = "Fitted values", y = expression(sqrt("|Standardized residuals|")), title = "Scale-Location")
    } else {
      g <- ggplot(df, aes(lev, std)) + geom_point() + geom_smooth(method = "loess", formula = y ~ x, se = FALSE) +
        labs(x = "Leverage", y = "Standardized residuals", title = "Residuals vs Leverage")
    }
    print(g + theme_bw())
  }
  invisible(dev.off())
}
"""


def simulate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A fit's data: y and a design (without intercept) of one to three predictors."""
    n = int(rng.integers(30, 2000))
    k = int(rng.integers(1, 4))
    x = rng.lognormal(0, 0.7, (n, k)) if rng.random() < 0.5 else rng.normal(size=(n, k))
    y = 1 + x @ rng.normal(size=k) + rng.normal(size=n)
    return y, x


def r_images(kinds: list[str], rngs: list[np.random.Generator]) -> list[Image.Image]:
    with tempfile.TemporaryDirectory(prefix="plotlstm-panels-") as tmp:
        root = Path(tmp)
        rows = []
        for i, (kind, rng) in enumerate(zip(kinds, rngs, strict=True)):
            y, x = simulate(rng)
            data = root / f"d{i}.csv"
            header = ",".join(["y", *(f"x{j}" for j in range(x.shape[1]))])
            np.savetxt(data, np.column_stack([y, x]), delimiter=",", header=header, comments="", fmt="%.17g")
            w, h, res = [(480, 480, 72), (600, 400, 72), (700, 500, 96)][int(rng.integers(3))]
            rows.append(
                {"kind": kind, "which": R_PANELS.get(kind, 0), "data": str(data), "out": str(root / f"p{i}.png"),
                 "width": w, "height": h, "res": res}
            )  # fmt: skip
        jobs = root / "jobs.csv"
        with jobs.open("w", newline="") as f:
            writer = csv.DictWriter(f, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        (root / "draw.R").write_text(R_SCRIPT)
        subprocess.run(["Rscript", str(root / "draw.R"), str(jobs)], check=True, capture_output=True)
        out = []
        for row in rows:
            with Image.open(row["out"]) as img:
                out.append(img.convert("RGB"))
        return out


def python_image(kind: str, rng: np.random.Generator) -> Image.Image:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    import statsmodels.api as sm

    y, x = simulate(rng)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    fig, ax = plt.subplots(figsize=[(5, 5), (6, 4), (8, 6)][int(rng.integers(3))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "sm_qqplot":
            sm.qqplot(fit.resid, line="s", ax=ax)
        elif kind == "sm_leverage_resid2":
            sm.graphics.plot_leverage_resid2(fit, ax=ax)
        elif kind == "sm_influence":
            sm.graphics.influence_plot(fit, ax=ax, criterion="cooks")
        elif kind == "sm_ccpr":
            sm.graphics.plot_ccpr(fit, 1, ax=ax)
        elif kind == "scatter":
            ax.scatter(x[:, 0], y, s=10, alpha=0.6)
            ax.set_xlabel("x")
            ax.set_ylabel("y")
        else:
            sns.regplot(x=x[:, 0], y=y, ax=ax, scatter_kws={"s": 10, "alpha": 0.6})
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=[72, 96, 100][int(rng.integers(3))])
    plt.close(fig)
    buf.seek(0)
    with Image.open(buf) as img:
        return img.convert("RGB")


def image_rng(k: int, i: int, seed: int = SEED) -> np.random.Generator:
    """The rng of image ``i`` of the ``k``-th kind drawn: its data (and for Python kinds, its look)."""
    return np.random.default_rng([seed, k, i])


TREND_KINDS = ("sm_ccpr", *SCATTERS)
R2_BANDS = ((0.0, 0.1), (0.1, 0.3), (0.3, 1.01))


def trend_r2(kind: str, rng: np.random.Generator) -> float:
    """The R^2 of the trend a scatter (y on x) or a partial residual plot (component + residual on x) shows."""
    y, x = simulate(rng)
    if kind in SCATTERS:
        return float(np.corrcoef(x[:, 0], y)[0, 1] ** 2)
    design = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    component = beta[1] * x[:, 0]
    return float(np.corrcoef(x[:, 0], component + y - design @ beta)[0, 1] ** 2)


def kinds_drawn() -> list[str]:
    """The kinds this machine can draw, in the order that seeds them."""
    kinds = [*SM_PANELS, *SCATTERS]
    if shutil.which("Rscript"):
        kinds = [*R_PANELS, *kinds]
        has_gg = subprocess.run(
            ["Rscript", "-e", "quit(status = !requireNamespace('ggplot2', quietly = TRUE))"], check=False
        ).returncode == 0  # fmt: skip
        kinds = [*kinds, *(GG_PANELS if has_gg else ())]
        if not has_gg:
            print("R has no ggplot2: its panels are skipped")
    else:
        print("Rscript not found: R's panels are skipped (apt-get install r-base-core r-cran-ggplot2)")
    return kinds


def draw(kinds: list[str], per_kind: int, cache: Path, seed: int = SEED) -> dict[str, list[Path]]:
    """Every kind's images (drawn once into ``cache``, then read from it)."""
    files: dict[str, list[Path]] = {}
    for k, kind in enumerate(kinds):
        folder = cache / kind
        paths = [folder / f"{i:04d}.png" for i in range(per_kind)]
        files[kind] = paths
        missing = [i for i, p in enumerate(paths) if not p.exists()]
        if not missing:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        rngs = [image_rng(k, i, seed) for i in missing]
        if kind.startswith(("r_", "gg_")):
            images = r_images([kind] * len(missing), rngs)
        else:
            images = [python_image(kind, rng) for rng in rngs]
        for i, image in zip(missing, images, strict=True):
            image.save(paths[i])
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ckpt", action="append", help="checkpoint or run folder (default: the bundled model)"
    )
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--cache", type=Path, default=Path("runs/other_panels"), help="one folder per seed")
    parser.add_argument(
        "--seed", type=int, default=SEED, help="another draw than the reported one, for choices"
    )
    args = parser.parse_args()
    kinds = kinds_drawn()
    files = draw(kinds, args.per_kind, args.cache, args.seed)
    r2 = {
        kind: np.array([trend_r2(kind, image_rng(kinds.index(kind), i, args.seed)) for i in range(n)])
        for kind in TREND_KINDS
        if kind in files and (n := len(files[kind]))
    }
    caught_by: dict[str, list[bool]] = {}
    for ckpt in args.ckpt or ["bundled"]:
        clf = PlotClassifier.load(None if ckpt == "bundled" else ckpt, device="cpu")
        caught_by[ckpt] = []
        print(
            f"\n{ckpt}: share answered {UNRECOGNIZED} (Wilson 95 % interval), and the labels given otherwise"
        )
        caught_all = total = faint_caught = faint = 0
        for kind, paths in files.items():
            labels = [p.label for p in clf.predict_files(paths)]
            hits = [label == UNRECOGNIZED for label in labels]
            caught_by[ckpt] += hits
            caught = sum(hits)
            lo, hi = proportion_confint(caught, len(labels), method="wilson")
            others = {c: labels.count(c) for c in sorted(set(labels) - {UNRECOGNIZED})}
            print(
                f"  {kind:20s} {100 * caught / len(labels):6.1f} %  ({100 * lo:.1f}-{100 * hi:.1f})  {others}"
            )
            if kind in r2:
                hit = np.array([label == UNRECOGNIZED for label in labels])
                bands = [(a, b, (r2[kind] >= a) & (r2[kind] < b)) for a, b in R2_BANDS]
                print("    by the trend's R^2: " + ", ".join(
                    f"{a:g}-{min(b, 1):g}: {hit[m].sum()}/{m.sum()}" for a, b, m in bands
                ))  # fmt: skip
                faint += int((r2[kind] < FAINT).sum())
                faint_caught += int(hit[r2[kind] < FAINT].sum())
            caught_all += caught
            total += len(labels)
        print(f"  {'all':20s} {100 * caught_all / total:6.1f} %  of {total}")
        seen = total - faint
        print(
            f"  {'visible':20s} {100 * (caught_all - faint_caught) / seen:6.1f} %  of {seen} (trends of R^2 >= {FAINT:g})"
        )
    first, *others = caught_by
    for other in others:
        only_it, only_first, p = paired_comparison(caught_by[first], caught_by[other])
        print(
            f"\n{other} against {first}: {only_it} only it right, {only_first} only {first}; McNemar p {p:.3f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
