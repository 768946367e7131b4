"""Plots per second per core of the generator's renderer vs a naive matplotlib rendering.

Both draw the SAME simulated data sets (simulated once, before timing) and encode a PNG in
memory; one process, one core. Also prints where plotlstm's time per plot goes (simulate,
statsmodels lowess, the rest of the drawing, Pillow's PNG encoder), each timed alone on the same
data. Run: ``python benchmarks/generate_speed.py --n-plots 40``.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np

from plotlstm.synth.render import lowess, render, render_array, save_png, tune_process
from plotlstm.synth.simulate import CLASSES, simulate_plot


def ours(fitted: np.ndarray, residuals: np.ndarray) -> bytes:
    buf = io.BytesIO()
    save_png(render(fitted, residuals), buf)
    return buf.getvalue()


def naive_matplotlib(fitted: np.ndarray, residuals: np.ndarray) -> bytes:
    """A fresh figure per plot: open circles, statsmodels lowess (R's delta), labels, savefig."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from statsmodels.nonparametric.smoothers_lowess import lowess

    fig, ax = plt.subplots(figsize=(480 / 72, 480 / 72), dpi=72)
    ax.scatter(fitted, residuals, s=36, facecolors="none", edgecolors="k", linewidths=0.75)
    sm = lowess(residuals, fitted, frac=2 / 3, it=3, delta=0.01 * np.ptp(fitted))
    ax.plot(sm[:, 0], sm[:, 1], color="red", lw=0.75)
    ax.axhline(0, color="grey", ls=":", lw=0.75)
    for i in np.argsort(-np.abs(residuals))[:3]:
        ax.annotate(str(i + 1), (fitted[i], residuals[i]), fontsize=9)
    ax.set_title("Residuals vs Fitted", fontsize=12)
    ax.set_xlabel("Fitted values\nlm(y ~ .)")
    ax.set_ylabel("Residuals")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72, pil_kwargs={"compress_level": 1})
    plt.close(fig)
    return buf.getvalue()


def _ms(fn, items: list) -> float:
    """Mean milliseconds of ``fn(*item)`` over ``items`` (after one warm-up call)."""
    fn(*items[0])
    start = time.perf_counter()
    for item in items:
        fn(*item)
    return 1e3 * (time.perf_counter() - start) / len(items)


def breakdown(data: list[tuple[np.ndarray, np.ndarray]], rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` ms per plot of each stage of plotlstm's renderer."""
    arrays = [(render_array(f, r),) for f, r in data]
    best: dict[str, float] = {}
    for _ in range(rounds):
        ms = {
            "lowess": _ms(lowess, data),
            "render_array": _ms(render_array, data),
            "png": _ms(lambda a: save_png(a, io.BytesIO()), arrays),
        }
        best = {k: min(v, best.get(k, v)) for k, v in ms.items()}
    return best


def rate(fn, data: list[tuple[np.ndarray, np.ndarray]]) -> float:
    fn(*data[0])  # warm caches and imports
    start = time.perf_counter()
    for fitted, residuals in data:
        fn(fitted, residuals)
    return len(data) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-plots", type=int, default=40, help="plots per renderer (cycled over the classes)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the renderers this many times")
    args = parser.parse_args()
    tune_process()  # as in a generator worker: one BLAS thread, malloc keeps its heap (helps both)
    start = time.perf_counter()
    sims = [simulate_plot(args.seed, CLASSES[i % 4], i)[0] for i in range(args.n_plots)]
    sim_rate = args.n_plots / (time.perf_counter() - start)
    data = [(s.fitted, s.residuals) for s in sims]
    mean_n = np.mean([s.n for s in sims])
    ours_rates, naive_rates = [], []
    for _ in range(args.rounds):  # interleaved, so load from other processes hits both alike
        ours_rates.append(rate(ours, data))
        naive_rates.append(rate(naive_matplotlib, data))
    o, m = max(ours_rates), max(naive_rates)
    ms = breakdown(data, args.rounds)
    print(f"plots: {args.n_plots} (mean n = {mean_n:.0f} points), rounds: {args.rounds}, best round reported")
    print(f"simulation only:         {sim_rate:7.1f} plots/s/core")
    print(f"plotlstm renderer + PNG: {o:7.1f} plots/s/core")
    print(f"naive matplotlib + PNG:  {m:7.1f} plots/s/core")
    print(f"ratio (ours / naive):    {o / m:7.2f}x")
    both = 1 / (1 / o + 1 / sim_rate)
    print(f"simulate + render + PNG: {both:7.1f} plots/s/core")
    print("plotlstm per plot (ms, each stage timed alone, best round):")
    print(f"  simulate:                {1e3 / sim_rate:6.2f}")
    print(f"  lowess (statsmodels):    {ms['lowess']:6.2f}")
    print(f"  draw (all but lowess):   {ms['render_array'] - ms['lowess']:6.2f}")
    print(f"  PNG encode (Pillow):     {ms['png']:6.2f}")


if __name__ == "__main__":
    main()
