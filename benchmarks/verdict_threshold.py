"""Choose a model file's ``verdict.min_spoiled``: how sure the picture must be that a fit is spoiled before a
violation is named (below it the answer is ``none``; ``plotlstm.inference.unrecognized``).

Correct fits of designs the model never saw are flagged mostly with middling probabilities (1 - P(none) 0.55-0.75,
docs/model-card.md), so a threshold buys false alarms down with recall. The choice looks only at the ``tuning``
designs (never the held-out ones): ``--fits`` fits per design, n and class at the visible strength, drawn at
``--seed`` (a seed of its own) as ``benchmarks/designs.py`` draws them, read by the file with the rule off. It
takes the largest threshold of ``--grid`` whose recall (violated fits named right, pooled over the tuning designs)
is at most ``--budget`` points below the rule-off recall at every ``--n``, prints the table it chose from, and
writes the threshold into ``--out`` (default: the file itself, atomically).

Run: ``python benchmarks/verdict_threshold.py --model plotlstm/weights/designs.pt`` (the last step of ``make
bundled-model``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import designs  # noqa: E402

from plotlstm.models.checkpoint import write  # noqa: E402
from plotlstm.synth.designs import VIOLATIONS  # noqa: E402

GRID = tuple(round(0.5 + 0.05 * i, 2) for i in range(9))
"""Thresholds tried: 0.5 (changes no label: a violation that is the most probable class has 1 - P(none) > 0.5)
.. 0.9."""


def label_at(row: dict[str, Any], threshold: float) -> str:
    """The picture's label with ``min_spoiled = threshold``, from a row read with the rule off."""
    if row["image"] in VIOLATIONS and row["spoiled"] < threshold:
        return "none"
    return row["image"]


def rates(rows: Sequence[dict[str, Any]], threshold: float, n: int) -> tuple[float, float]:
    """(% of correct fits flagged, % of violated fits named right) at size ``n``."""
    correct = [r for r in rows if r["n"] == n and r["truth"] == "none"]
    spoiled = [r for r in rows if r["n"] == n and r["truth"] != "none"]
    flagged = sum(label_at(r, threshold) != "none" for r in correct)
    named = sum(label_at(r, threshold) == r["truth"] for r in spoiled)
    return 100 * flagged / max(1, len(correct)), 100 * named / max(1, len(spoiled))


def choose(rows: Sequence[dict[str, Any]], budget: float, grid: Sequence[float] = GRID) -> float:
    """The largest threshold of ``grid`` whose recall is at most ``budget`` points below the rule-off recall at
    every n of ``rows``."""
    ns = sorted({r["n"] for r in rows})
    base = {n: rates(rows, 0.0, n)[1] for n in ns}
    ok = [t for t in grid if all(base[n] - rates(rows, t, n)[1] <= budget + 1e-9 for n in ns)]
    return max(ok, default=grid[0])


def _init(model: str) -> None:
    designs._init([model])
    for classifier in designs._classifiers.values():
        classifier.min_spoiled = 0.0  # read with the rule off


def draw(model: str, ns: Sequence[int], fits: int, seed: int, workers: int) -> list[dict[str, Any]]:
    """Rows of ``benchmarks/designs.py`` on the tuning designs, the picture alone, with the rule off."""
    args = designs.parser().parse_args(
        ["--split", "tuning", "--n", *map(str, ns), "--fits", str(fits), "--null-plots", "0",
         "--seed", str(seed), "--ckpt", model]
    )  # fmt: skip
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(model,)) as pool:
        return [row for cell in pool.map(designs.run_cell, designs.tasks(args), chunksize=1) for row in cell]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="the exported model file")
    parser.add_argument("--out", type=Path, default=None, help="where to write it (default: --model)")
    parser.add_argument("--n", nargs="+", type=int, default=[200, 1000])
    parser.add_argument("--fits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=40)
    parser.add_argument("--budget", type=float, default=1.0, help="recall points the threshold may cost")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    rows = draw(str(args.model), args.n, args.fits, args.seed, args.workers)
    threshold = choose(rows, args.budget)
    print(
        f"tuning designs, seed {args.seed}, {args.fits} fits a cell: % correct fits flagged / % violations named"
    )
    for t in (0.0, *GRID):
        cells = "  ".join(f"n {n}: {rates(rows, t, n)[0]:4.1f} / {rates(rows, t, n)[1]:5.1f}" for n in args.n)
        print(f"  min_spoiled {t:.2f}  {cells}{'   <- chosen' if t == threshold else ''}")
    ckpt = torch.load(args.model, map_location="cpu", weights_only=True)
    ckpt["verdict"] = {"min_spoiled": threshold, "chosen_on": f"tuning designs, seed {args.seed}",
                       "budget": args.budget}  # fmt: skip
    out = write(ckpt, args.out or args.model)
    print(f"min_spoiled {threshold} written to {out}")


if __name__ == "__main__":
    main()
