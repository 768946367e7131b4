"""How often ``explain.plot_area`` finds the axes box of an uploaded plot (``/v1/classify?explain=true``).

Plots of the ``general`` style (the looks of R, ggplot2, matplotlib, seaborn and statsmodels at varied sizes, with
grids, panels, JPEG, borders) and of each fixed look, drawn by plotlstm's renderer, so the plot region is known
from the renderer's layout; prepared at the model's input size. Printed: found within ``--tolerance`` model
pixels on both sides, found but wrong, and not found (the evidence then covers the whole image).

Run: ``python benchmarks/plot_area.py [--plots 200] [--size 64] [--tolerance 2]``.
"""

from __future__ import annotations

import argparse

import numpy as np

from plotlstm.data.images import image_to_uint8
from plotlstm.inference.explain import plot_area
from plotlstm.synth.render import _region, render
from plotlstm.synth.style import PRESETS, R_STYLE, sample_general_style

SEED = 27_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plots", type=int, default=200)
    parser.add_argument("--size", type=int, default=64, help="the model's input size")
    parser.add_argument("--tolerance", type=float, default=2.0, help="model pixels")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    looks = {
        "general": None,
        "r": R_STYLE,
        **{k: R_STYLE.replace(**v) for k, v in PRESETS.items() if k != "r"},
    }
    for name, fixed in looks.items():
        right = wrong = missing = 0
        for _ in range(args.plots if fixed is None else max(1, args.plots // 10)):
            n = int(np.exp(rng.uniform(np.log(50), np.log(5000))))
            style = fixed or sample_general_style(rng, n)
            image = image_to_uint8(
                render(rng.normal(size=n), rng.normal(size=n), style), args.size, "bilinear"
            )
            left, _, end, _, _ = _region(style)
            truth = (left * args.size / style.width, end * args.size / style.width)
            found = plot_area(image)
            if found is None:
                missing += 1
            elif abs(found[0] - truth[0]) <= args.tolerance and abs(found[1] - truth[1]) <= args.tolerance:
                right += 1
            else:
                wrong += 1
        total = right + wrong + missing
        print(
            f"{name:12s} {total:4d} plots: found {100 * right / total:5.1f} %, wrong {100 * wrong / total:5.1f} %, "
            f"not found {100 * missing / total:5.1f} %"
        )


if __name__ == "__main__":
    main()
