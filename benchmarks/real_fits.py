"""Real data: what ``plotlstm.check`` says about OLS fits of the data sets that ship with statsmodels.

Every statsmodels data set with a one-column response and regressors (``statsmodels.datasets``; nothing is
downloaded) is fitted by OLS on its numeric regressors plus a constant, and the fit is checked, once per
checkpoint, by the picture alone (``null_plots=0``: the null-plot test turns any picture it cannot read into a
violation, which would hide the figure). The true class of a real data set is unknown, but every one of these
images is a residual-vs-fitted plot: the figure that matters is the share the model answers ``unrecognized``. The table also shows each fit's
label and sample size, so a reader can judge the labels against the plots (``--save DIR`` writes them).

Run: ``python benchmarks/real_fits.py [--ckpt bundled] [--ckpt RUN_OR_FILE ...] [--save DIR]``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import statsmodels.api as sm
from statsmodels import datasets

import plotlstm
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.unrecognized import UNRECOGNIZED


def real_fits() -> dict[str, Any]:
    """OLS results of every bundled statsmodels data set with a one-column response and numeric regressors."""
    fits: dict[str, Any] = {}
    for name in sorted(n for n in dir(datasets) if not n.startswith("_")):
        module = getattr(datasets, name)
        if not hasattr(module, "load_pandas"):
            continue
        data = module.load_pandas()
        endog, exog = getattr(data, "endog", None), getattr(data, "exog", None)
        if exog is None or endog is None or getattr(endog, "ndim", 1) != 1:
            continue
        exog = exog.to_frame() if exog.ndim == 1 else exog
        numeric = exog.select_dtypes("number").astype(float)
        frame = numeric.assign(_y=np.asarray(endog, dtype=float)).dropna()
        if numeric.shape[1] == 0 or len(frame) < 10:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[name] = sm.OLS(frame.pop("_y"), sm.add_constant(frame, has_constant="add")).fit()
    return fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ckpt", action="append", default=None, help="'bundled' (default) or a checkpoint; repeatable"
    )
    parser.add_argument("--save", type=Path, default=None, help="also save each drawn plot here")
    args = parser.parse_args()
    fits = real_fits()
    for ckpt in args.ckpt or ["bundled"]:
        clf = PlotClassifier.load(None if ckpt == "bundled" else ckpt)
        results = plotlstm.check(fits, classifier=clf, null_plots=0)
        print(f"\ncheckpoint: {clf.checkpoint}")
        print("| data set | n | label | probability | P(unrecognized) |\n|---|---|---|---|---|")
        unrecognized = 0
        for name, r in results.items():
            unrecognized += r.label == UNRECOGNIZED
            print(
                f"| {name} | {len(r.fitted)} | {r.label} | {r.probabilities.get(r.label, 0.0):.3f} "
                f"| {r.probabilities.get(UNRECOGNIZED, 0.0):.3f} |"
            )
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                r.image.save(args.save / f"{name}_as_{r.label}.png")
        print(f"\nwrongly answered unrecognized: {unrecognized} of {len(results)} real residual plots")


if __name__ == "__main__":
    main()
