"""What each class does to the OLS fit: rejection rates of the classic tests, per class (and per kind).

For every class, ``--n-datasets`` data sets (ids 0 .. N-1 of seed ``--seed``) are simulated exactly as the
generator does and fitted by OLS; the script prints, per class, the share of data sets in which each test
rejects at ``--alpha``: Jarque-Bera, Breusch-Pagan (the model's regressors; and the fitted values with
their square), Ramsey's RESET (fitted^2, fitted^3, F test), the Bonferroni outlier test. For ``none`` a
second row fits B and X*B too (the terms the generator's model leaves out). With ``--by-kind``
the two new classes are also broken down by kind of fan or curve.

Run: ``python benchmarks/class_tests.py --n-datasets 1000 --seed 20261126`` (the table in docs/generator.md).
``--n-range LO HI --n-scale uniform|log`` draws each data set's n as the generator's option of that name (default:
the reference's, uniform in 100..10,000), e.g. ``--n-range 20 100 --n-scale log`` for small samples.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from plotlstm.synth.diagnostics import TESTS, diagnose
from plotlstm.synth.simulate import (
    CLASSES,
    DEFAULT_SAMPLE_SIZE,
    KINDS,
    N_RANGE,
    N_SCALES,
    SampleSize,
    check_sample_size,
    simulate_plot,
)

HEADERS = ("JB", "BP", "BP fitted", "RESET", "Bonferroni")


def _one(args: tuple[int, str, int, bool, SampleSize]) -> tuple[str | None, list[float]]:
    seed, cls, index, with_interaction, sample = args
    sim, _ = simulate_plot(seed, cls, index, None, sample)
    d = diagnose(sim, with_interaction=with_interaction)
    return sim.kind, [getattr(d, t) for t in TESTS]


def rates(
    seed: int,
    cls: str,
    n: int,
    workers: int,
    with_interaction: bool = False,
    sample: SampleSize = DEFAULT_SAMPLE_SIZE,
) -> tuple[np.ndarray, list[str | None]]:
    """p-values (n x tests) and kinds of data sets 0 .. n-1 of class ``cls``."""
    jobs = [(seed, cls, i, with_interaction, sample) for i in range(n)]
    if workers <= 1:
        out = [_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            out = list(pool.map(_one, jobs, chunksize=16))
    return np.array([p for _, p in out]), [k for k, _ in out]


def _row(label: str, p: np.ndarray, alpha: float) -> str:
    cells = " | ".join(f"{100 * v:.1f}" for v in (p < alpha).mean(axis=0))
    return f"| {label} | {len(p)} | {cells} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-datasets", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--classes", nargs="+", default=list(CLASSES), choices=CLASSES)
    ap.add_argument("--by-kind", action="store_true", help="also break the new classes down by kind")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--n-range", type=int, nargs=2, metavar=("LO", "HI"), default=list(N_RANGE))
    ap.add_argument("--n-scale", default="uniform", choices=N_SCALES)
    args = ap.parse_args()
    try:
        sample = check_sample_size(args.n_range, args.n_scale)
    except ValueError as err:
        ap.error(f"--{err}".replace("_", "-", 1))

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    warnings.simplefilter("ignore", SingularMatrixWarning)  # B and X*B fitted: B can be collinear in small n
    start = time.perf_counter()
    print(
        f"rejection rates (%) at {args.alpha:g}, seed {args.seed}, ids 0..{args.n_datasets - 1}, "
        f"n {sample.scale} in {sample.low}..{sample.high}"
    )
    print(f"| class | data sets | {' | '.join(HEADERS)} |")
    print("|---|---:|" + "---:|" * len(HEADERS))
    for cls in args.classes:
        p, kinds = rates(args.seed, cls, args.n_datasets, args.workers, sample=sample)
        print(_row(f"`{cls}`", p, args.alpha), flush=True)
        if cls == "none":  # where none's rejections come from: the left-out B and X*B terms
            p, _ = rates(args.seed, cls, args.n_datasets, args.workers, with_interaction=True, sample=sample)
            print(_row("`none`, B and X*B fitted too", p, args.alpha), flush=True)
        if args.by_kind and cls in KINDS:
            for kind in KINDS[cls]:
                mask = np.array([k == kind for k in kinds])
                print(_row(f"`{cls}` {kind}", p[mask], args.alpha), flush=True)
    print(f"({time.perf_counter() - start:.0f} s, {args.workers} workers)")


if __name__ == "__main__":
    main()
