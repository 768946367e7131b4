"""Held-out generator plots: how checkpoints of the bundled model's recipe compare on plots none of them trained on.

The ``general`` preset (``conf/synth/general.yaml``: seed, style, sample sizes) draws each plot from its
own seed, so plot ids past every training set's are held out from all of them: ids 30,000-30,999 of each class
(7,000 plots) by default, above the 30,000-a-class set's training ids. They are drawn once into ``--cache``, whose
``drawn_by.json`` records the preset and the generator's revisions: a cache drawn by another is refused in one line
(a changed generator draws other pictures for the same ids).

For each checkpoint it prints accuracy (the labels ``predict`` gives, after the ``unrecognized`` rules), recall by
class, accuracy by sample size n, and how the top probability matches the share right (reliability). With two or
more checkpoints, each against the first: plots only one got right and McNemar's exact test (statsmodels), on
all plots and on the residual plots alone. The residual plots' line also gives the share of them answered
``unrecognized`` (the gates in ``docs/training.md``).

``--preset general_designs`` draws the held-out ids of the widened preset instead (its design mix included), and
adds a line for the plots issue 23's goals speak of (:func:`goal_plot`): design plots, correct at n >= 200 or
violated at n >= 300 at the visible strength; the faint violations and small samples the rest of the draw labels
as violations are left out of it.

Run: ``python benchmarks/heldout.py --ckpt bundled --ckpt RUN_OR_FILE [--ids 30000 31000] [--cache runs/heldout]
[--preset general]``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from plotlstm.atomic import atomic_path
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.metrics import paired_comparison
from plotlstm.inference.unrecognized import UNRECOGNIZED
from plotlstm.synth.designs import VISIBLE_STRENGTH
from plotlstm.synth.generator import drawing_revisions, make_plot, plot_header
from plotlstm.synth.simulate import Header, check_params, check_sample_size

PRESETS = Path(__file__).resolve().parents[1] / "conf" / "synth"
N_BINS = ((20, 50), (50, 100), (100, 300), (300, 1000), (1000, 10_001))
CONFIDENCE_BINS = np.linspace(0.0, 1.0, 11)


def _draw(job: tuple[dict[str, Any], str, int, Path]) -> None:
    preset, cls, pid, path = job
    if not path.exists():
        image = make_plot(
            preset["seed"],
            cls,
            pid,
            preset["style"],
            None,
            preset["n_range"],
            preset["n_scale"],
            preset.get("design_mix", 0.0),
        )
        image.save(path)


def _check_cache(cache: Path, preset_name: str, preset: dict[str, Any]) -> None:
    """Record what draws the plots in ``cache`` (``drawn_by.json``); refuse a cache another generator drew."""
    now = {
        "preset": preset_name,
        **{k: preset.get(k) for k in ("seed", "style", "n_range", "n_scale", "design_mix")},
    }
    now.update(drawing_revisions(preset["style"], preset.get("design_mix", 0.0), preset["classes"]))
    stamp = cache / "drawn_by.json"
    if stamp.exists():
        try:
            was = json.loads(stamp.read_text())
        except (OSError, ValueError) as err:
            raise SystemExit(f"heldout: {stamp} is unreadable ({err}); use another --cache folder") from None
        for key in now:
            if was.get(key) != now[key]:
                raise SystemExit(
                    f"heldout: {cache} holds plots drawn with {key}={was.get(key)!r}, not {now[key]!r}; "
                    "use another --cache folder"
                )
        return
    if any(cache.glob("*/*.png")):
        raise SystemExit(
            f"heldout: {cache} holds plots but no drawn_by.json (drawn by an older benchmark); use another --cache folder"
        )
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps(now, indent=2))


def goal_plot(cls: str, header: Header) -> bool:
    """Whether issue 23's goals speak of a plot: one of the design families (not the reference's process, not a
    non-plot), correct at n >= 200 or violated at n >= 300 at :data:`VISIBLE_STRENGTH` or more."""
    # the reference's process draws predictors; a non-plot has no kind
    if header.predictors or header.kind is None:
        return False
    if cls == "none":
        return header.n >= 200
    return header.n >= 300 and header.strength is not None and header.strength >= VISIBLE_STRENGTH


def held_out(
    ids: range, cache: Path, workers: int, preset_name: str = "general"
) -> tuple[list[Path], np.ndarray, np.ndarray, np.ndarray]:
    """(files, true classes, n, goal plots) of plots ``ids`` of every class of the preset, drawn where missing."""
    preset = OmegaConf.to_container(OmegaConf.load(PRESETS / f"{preset_name}.yaml"))
    sample = check_sample_size(preset["n_range"], preset["n_scale"], preset.get("design_mix", 0.0))
    params = check_params(preset["class_params"])
    _check_cache(cache, preset_name, preset)
    jobs, truth, ns, goal = [], [], [], []
    for cls in preset["classes"]:
        (cache / cls).mkdir(parents=True, exist_ok=True)
        for pid in ids:
            jobs.append((preset, cls, pid, cache / cls / f"{cls}_{pid:06d}.png"))
            header = plot_header(preset["seed"], cls, pid, params, sample)
            truth.append(cls)
            ns.append(header.n)
            goal.append(goal_plot(cls, header))
    with ProcessPoolExecutor(workers or None) as pool:
        list(pool.map(_draw, jobs, chunksize=64))
    return [job[3] for job in jobs], np.array(truth), np.array(ns), np.array(goal, dtype=bool)


def report(
    name: str, labels: np.ndarray, top: np.ndarray, truth: np.ndarray, ns: np.ndarray, goal: np.ndarray
) -> None:
    right = labels == truth
    recall = ", ".join(f"{c} {100 * right[truth == c].mean():.1f}%" for c in sorted(set(truth)))
    print(f"\n{name}: {100 * right.mean():.2f}% of {len(right)} ({recall})")
    plots = truth != UNRECOGNIZED
    if plots.any():
        lost = 100 * (labels[plots] == UNRECOGNIZED).mean()
        print(
            f"  residual plots: {100 * right[plots].mean():.2f}% of {plots.sum()}, {lost:.2f}% answered unrecognized"
        )
    if goal.any():
        healthy = goal & (truth == "none")
        print(
            f"  the goals' plots: {100 * right[goal].mean():.2f}% of {goal.sum()}; correct fits flagged "
            f"{100 * (labels[healthy] != 'none').mean():.2f}% of {healthy.sum()}, violations named "
            f"{100 * right[goal & ~healthy].mean():.2f}% of {(goal & ~healthy).sum()}"
        )
    for lo, hi in N_BINS:
        m = plots & (ns >= lo) & (ns < hi)
        print(
            f"  n {lo}-{hi - 1}: {m.sum()} plots, {100 * right[m].mean():.1f}% right, mean top p {top[m].mean():.3f}"
        )
    for lo, hi in zip(CONFIDENCE_BINS[:-1], CONFIDENCE_BINS[1:], strict=True):
        m = plots & (top >= lo) & ((top < hi) | (hi == 1.0))
        if m.any():
            print(f"  top p {lo:.1f}-{hi:.1f}: {m.sum()} plots, {100 * right[m].mean():.1f}% right")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", action="append", required=True, help="checkpoint, run folder or 'bundled'")
    parser.add_argument("--ids", type=int, nargs=2, default=[30_000, 31_000], metavar=("FIRST", "END"))
    parser.add_argument("--cache", type=Path, default=Path("runs/heldout"))
    parser.add_argument("--workers", type=int, default=0, help="drawing processes, 0 = all cores")
    parser.add_argument("--preset", default="general", help="the synth preset (conf/synth/NAME.yaml) to draw")
    args = parser.parse_args(argv)
    files, truth, ns, goal = held_out(range(*args.ids), args.cache, args.workers, args.preset)
    right = {}
    for ckpt in args.ckpt:
        clf = PlotClassifier.load(None if ckpt == "bundled" else ckpt)
        preds = clf.predict([str(f) for f in files])
        labels = np.array([p.label for p in preds])
        top = np.array([max(p.probabilities.values()) for p in preds])
        report(ckpt, labels, top, truth, ns, goal)
        right[ckpt] = labels == truth
    first, *others = args.ckpt
    plots = truth != UNRECOGNIZED
    for other in others:
        print()
        for name, keep in (
            ("", np.ones_like(plots)),
            (" (residual plots)", plots),
            (" (the goals' plots)", goal),
        ):
            if not keep.any():
                continue
            only_it, only_first, p = paired_comparison(right[first][keep], right[other][keep])
            print(
                f"{other} against {first}{name}: {only_it} only it right, {only_first} only {first}; McNemar p {p:.3f}"
            )


if __name__ == "__main__":
    main()
