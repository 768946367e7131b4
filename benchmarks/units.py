"""Units: does the answer depend on the numbers on the axes? Correct fits whose response is given in other units.

A residual plot of ``a y + c`` is the plot of ``y`` with other tick labels: the verdict should not change. For each
checkpoint, ``--fits`` correct OLS fits (``y = 1 + 2x + N(0, 1)``, x normal, seed 50,000) at each n are drawn by
``plotlstm.check`` with the response as it is and in other units (a factor ``a`` and the fitted values moved ``c``
of their own sd away from 0, as real data come: ``longley``'s are 65,000 +- 3,500), and read by the picture alone
(``null_plots=0``). Printed: the share answered ``unrecognized`` and the share flagged (any class but ``none``).

Run: ``python benchmarks/units.py [--ckpt designs --ckpt general ...] [--fits 20] [--n 20 60 235 1000]``.
"""

from __future__ import annotations

import argparse

import numpy as np

from plotlstm.inference.check import check
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.unrecognized import UNRECOGNIZED

SEED = 50_000
UNITS = ((1.0, 0.0), (0.01, 0.0), (100.0, 0.0), (100.0, 20.0), (1000.0, 20.0), (1e5, 3.0))
"""(a, c): the response times ``a``, the fitted values' centre ``c`` of their sd from 0."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", action="append", help="a bundled model's name or a checkpoint (repeatable)")
    parser.add_argument("--fits", type=int, default=20)
    parser.add_argument("--n", type=int, nargs="+", default=[20, 60, 235, 1000])
    args = parser.parse_args()
    for ckpt in args.ckpt or [None]:
        clf = PlotClassifier.load(ckpt, device="cpu")
        print(
            f"\n{clf.checkpoint}: % answered {UNRECOGNIZED} / % flagged, of {args.fits} correct fits a cell"
        )
        print(f"{'a, centre':>16s} " + " ".join(f"{f'n {n}':>13s}" for n in args.n))
        for a, centre in UNITS:
            cells = []
            for n in args.n:
                unrecognized = flagged = 0
                for i in range(args.fits):
                    rng = np.random.default_rng([SEED, n, i])
                    x = rng.normal(size=n)
                    fitted, residuals = 1 + 2 * x, rng.normal(size=n)
                    residuals -= np.polyval(np.polyfit(x, residuals, 1), x)  # OLS residuals of y on [1, x]
                    shift = centre * np.std(fitted) - np.mean(fitted)
                    label = check(
                        fitted=a * (fitted + shift), residuals=a * residuals, classifier=clf, null_plots=0
                    ).label
                    unrecognized += label == UNRECOGNIZED
                    flagged += label != "none"
                cells.append(f"{100 * unrecognized / args.fits:5.1f} / {100 * flagged / args.fits:5.1f}")
            print(f"{f'{a:g}, {centre:g} sd':>16s} " + " ".join(f"{c:>13s}" for c in cells))


if __name__ == "__main__":
    main()
