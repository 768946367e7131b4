"""``check``'s null-plot test against the picture alone and the classic tests, on the same fits.

False alarms: correct OLS fits (``y = 1 + X b + N(0, 1)``) of normal, uniform, skewed, heavy-tailed, factor and
real designs (``plotlstm.synth.designs``), n from 20 to 100,000, each checked with 19 null plots: the share
flagged by the test (``p <= alpha``), by the picture alone (the model's label is not ``none``), and by the classic
tests (Jarque-Bera, Breusch-Pagan, RESET, Bonferroni outlier; the smallest p below alpha/4). Power: fits of each
violation at the visible strength, n up to 5,000: the share named right by each verdict; and balanced accuracy
(the mean over the six classes of the share named right, ``none`` included) by n. The picture alone flags far
more correct fits at small n than the test, so it is also compared at the test's size: ``sized``, the picture's
verdict thresholded per n (a fit is flagged when ``1 - P(none)`` exceeds the quantile of the correct fits' that
flags as many of them as the test did, and named by its most probable other class).

Run: ``python benchmarks/check_nulls.py [--fits 25] [--big-fits 10] [--ckpt RUN] [--null-plots 19] [--n 20 50]
[--correct-only]`` (the drawing of the designs
benchmark, ``benchmarks/designs.py``, with these designs and sizes).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import designs as bench  # noqa: E402

from plotlstm.synth.designs import VIOLATIONS  # noqa: E402

DESIGNS = [
    "normal",
    "uniform",
    "lognormal",
    "exponential",
    "t3",
    "factor5",
    "two_way",
    "cars",
    "Boston",
    "engel",
]
SMALL_N = [20, 50, 100, 300, 1000, 5000]
BIG_N = [20_000, 100_000]
VERDICTS = ("test", "image", "classic")


def options(fits: int, n: list[int], classes: list[str], extra: argparse.Namespace) -> argparse.Namespace:
    return bench.parser().parse_args(
        ["--designs", *DESIGNS, "--n", *map(str, n), "--fits", str(fits), "--classic", "--classes", *classes,
         "--seed", str(extra.seed), "--ckpt", extra.ckpt or "bundled", "--null-plots", str(extra.null_plots)]
    )  # fmt: skip


def rate(rows: list[dict[str, Any]], verdict: str, hit: Any) -> str:
    k = sum(hit(r[verdict]) for r in rows)
    return f"{100 * k / len(rows):5.1f} ({k}/{len(rows)})" if rows else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=25, help="fits per design, n and class up to n = 5,000")
    parser.add_argument(
        "--big-fits", type=int, default=10, help="correct fits per design at n = 20,000 and 100,000"
    )
    parser.add_argument("--ckpt", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--null-plots", type=int, default=19, help="null plots per fit (check's null_plots)")
    parser.add_argument("--n", type=int, nargs="+", default=SMALL_N + BIG_N, help="only these sizes")
    parser.add_argument(
        "--correct-only", action="store_true", help="only correct fits (false alarms), --fits at every n"
    )
    extra = parser.parse_args()
    small_n, big_n = [n for n in extra.n if n in SMALL_N], [n for n in extra.n if n in BIG_N]
    classes = ["none"] if extra.correct_only else ["none", *VIOLATIONS]
    if extra.correct_only:
        small_n, big_n = small_n + big_n, []
    rows, seconds = bench.run(options(extra.fits, small_n, classes, extra)) if small_n else ([], 0.0)
    big, big_seconds = bench.run(options(extra.big_fits, big_n, ["none"], extra)) if big_n else ([], 0.0)
    rows += big
    print(f"{len(rows)} fits, {seconds + big_seconds:.0f} s; designs: {', '.join(DESIGNS)}")

    by_n: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_n[r["n"]].append(r)
    print(
        "\nfalse alarms on correct fits, % flagged (test = null plots, image = the picture alone, classic tests)"
    )
    correct = [r for r in rows if r["truth"] == "none"]
    for n in sorted(by_n):
        cell = [r for r in by_n[n] if r["truth"] == "none"]
        print(f"  n {n:>7,}: " + "  ".join(f"{v} {rate(cell, v, lambda x: x != 'none')}" for v in VERDICTS))
    print("  all      : " + "  ".join(f"{v} {rate(correct, v, lambda x: x != 'none')}" for v in VERDICTS))
    worst = max((sum(r["test"] != "none" for r in c) / len(c), d, n) for (d, n), c in group(correct).items())
    print(f"  the test's worst design and n: {worst[1]} at n = {worst[2]:,}: {100 * worst[0]:.1f} %")
    if extra.correct_only:
        return

    print("\nnamed right, % of violated fits (visible strength), and balanced accuracy over the six classes")
    for n in small_n:
        cell = by_n[n]
        sized(cell)
        parts = []
        for v in (*VERDICTS, "sized"):
            recalls = [
                sum(r[v] == c for r in cell if r["truth"] == c) / max(1, sum(r["truth"] == c for r in cell))
                for c in ("none", *VIOLATIONS)
            ]
            spoiled = [r for r in cell if r["truth"] != "none"]
            parts.append(f"{v} {rate(spoiled, v, lambda x: x != 'none')} named {100 * named(spoiled, v):5.1f} "
                         f"bal.acc {100 * sum(recalls) / len(recalls):5.1f}")  # fmt: skip
        print(f"  n {n:>5,}: " + " | ".join(parts))
    print("\nper class at n >= 300, % named right: test / image / classic")
    for c in VIOLATIONS:
        cell = [r for r in rows if r["truth"] == c and r["n"] >= 300]
        print(f"  {c:16s} " + " / ".join(rate(cell, v, lambda x, c=c: x == c) for v in VERDICTS))


def sized(cell: list[dict[str, Any]]) -> None:
    """Each row's ``sized`` verdict: the picture's, at the share of correct fits the test flagged in ``cell``."""
    correct = [r for r in cell if r["truth"] == "none"]
    size = sum(r["test"] != "none" for r in correct) / max(1, len(correct))
    cut = float(np.quantile([r["spoiled"] for r in correct], 1 - size)) if correct else 1.0
    for r in cell:
        r["sized"] = r["worst"] if r["spoiled"] > cut else "none"


def named(rows: list[dict[str, Any]], verdict: str) -> float:
    return sum(r[verdict] == r["truth"] for r in rows) / max(1, len(rows))


def group(rows: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    out: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[(r["design"], r["n"])].append(r)
    return out


if __name__ == "__main__":
    main()
