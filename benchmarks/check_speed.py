"""``check()`` on one fit of 10,000 rows and one of 1,000,000 rows, against today's render path plus a model call.

The baseline, measured in the same run on the same data and the same classifier: ``render(fitted, residuals)`` with
statsmodels' lowess on every point and every marker stamped, then ``classifier.predict(image)``. Also prints how far
the binned lowess curve lies from the exact one, in pixels of the plot, and how many pixels of the two images differ.
Goals (issue 14): <= 60 ms at 10,000 rows and <= 1 s at 1,000,000 rows on 2 CPU cores, for the picture alone
(``null_plots=0``); with the default 19 null plots (issue 24): <= 1 s and <= 3 s.

Run: ``python benchmarks/check_speed.py [--ckpt RUN] [--repeats 7]``. Without ``--ckpt`` the model is an untrained
PlotLitModule of the default size (256 x 256 input): its speed does not depend on training.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from plotlstm.inference.check import FitData, check, draw
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule
from plotlstm.synth import render as render_module
from plotlstm.synth.binned import binned_lowess
from plotlstm.synth.render import curve_vertices, lowess, plot_limits, render, tune_process


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall seconds of ``fn()`` over ``repeats`` calls after one warm-up, and the last result.

    Also keeps the median CPU seconds of this process (all its threads) in ``CPU[fn]``: on a machine shared with
    other jobs the wall time includes waiting for a core, the CPU time does not.
    """
    out = fn()
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    CPU[0] = statistics.median(cpus)
    return statistics.median(walls), out


CPU = [0.0]


def baseline(fitted: np.ndarray, residuals: np.ndarray, classifier: PlotClassifier) -> Any:
    """Today's path: the exact render (statsmodels lowess on every point, every marker stamped), one model call."""
    old = render_module.STAMP_BY_COUNTS
    render_module.STAMP_BY_COUNTS = 1 << 62
    try:
        image = render(fitted, residuals)
    finally:
        render_module.STAMP_BY_COUNTS = old
    return classifier.predict(image), image


def fit_of(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A skewed, heteroscedastic fit: a curved lowess line, and a dense cloud at large n."""
    rng = np.random.default_rng(seed)
    fitted = rng.gamma(3.0, size=n)
    residuals = rng.standard_normal(n) * (0.5 + fitted / 4) + 0.2 * (fitted - 3) ** 2 - 1.8
    return fitted, residuals


def curve_error_px(fitted: np.ndarray, residuals: np.ndarray) -> float:
    grid = np.linspace(fitted.min(), fitted.max(), 4000)
    exact = np.interp(grid, *curve_vertices(*lowess(fitted, residuals)))
    fast = np.interp(grid, *binned_lowess(fitted, residuals))
    _, _, y0, y1 = plot_limits(fitted, residuals)
    return float(np.abs(exact - fast).max() / (y1 - y0) * 386)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ckpt", help="checkpoint or run folder (default: an untrained default-size PlotLitModule)"
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the goal: 2 cores)")
    parser.add_argument("--null-plots", type=int, default=19, help="null plots of the tested check()")
    args = parser.parse_args()
    tune_process()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.ckpt
        if ckpt is None:
            torch.manual_seed(0)
            ckpt = Checkpoint.save(
                PlotLitModule(4, ["biased", "ceiling", "none", "outlier"]), Path(tmp) / "m.ckpt"
            )
        classifier = PlotClassifier.load(ckpt, device="cpu")
    print(
        f"cpu cores: {os.cpu_count()}, torch threads: {args.threads}, model input {classifier.image_size} px, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for n, repeats in ((10_000, args.repeats), (1_000_000, max(1, args.repeats // 2))):
        f, r = fit_of(n, seed=n)
        base_s, (base_pred, base_image) = timed(
            lambda f=f, r=r: baseline(f, r, classifier), 1 if n > 100_000 else repeats
        )
        base_cpu = CPU[0]
        ours_s, result = timed(
            lambda f=f, r=r: check(fitted=f, residuals=r, classifier=classifier, null_plots=0), repeats
        )
        ours_cpu = CPU[0]
        nulls_s, tested = timed(
            lambda f=f, r=r: check(fitted=f, residuals=r, classifier=classifier, null_plots=args.null_plots),
            max(1, repeats // 2),
        )
        draw_s, _ = timed(lambda f=f, r=r: draw(FitData(f, r)), repeats)
        model_s, _ = timed(lambda image=result.image: classifier.predict(image), repeats)
        diff = np.abs(np.asarray(result.image, dtype=int) - np.asarray(base_image)).max(axis=2)
        print(
            f"n={n:>9,}: check() {1e3 * ours_s:7.1f} ms, baseline (render + model) {1e3 * base_s:7.1f} ms, "
            f"speed-up x{base_s / ours_s:.2f} (check's drawing {1e3 * draw_s:.1f} ms, model call {1e3 * model_s:.1f} ms)"
        )
        print(
            f"             CPU time of this process: check() {1e3 * ours_cpu:.1f} ms, baseline {1e3 * base_cpu:.1f} ms"
        )
        print(
            f"             with {args.null_plots} null plots (the default verdict): {1e3 * nulls_s:.1f} ms, "
            f"{nulls_s / ours_s:.1f}x the picture alone; {tested.summary}"
        )
        print(
            f"             curve vs exact lowess: max {curve_error_px(f, r):.3f} px; "
            f"pixels differing: {(diff > 0).mean():.4%} (by more than 25%: {(diff > 64).mean():.4%}); "
            f"verdict {result.label} vs baseline {base_pred.label}, "
            f"max |dp| {max(abs(result.probabilities[c] - base_pred.probabilities[c]) for c in classifier.classes):.2e}"
        )


if __name__ == "__main__":
    main()
