"""Cross-renderer benchmark: how well a checkpoint reads residual plots drawn by the real plotting libraries.

From the same simulated data sets (``plotlstm.synth.simulate``, seed 10,000: no training set uses it) each
renderer draws ``--per-class`` plots per class: matplotlib, seaborn (``residplot``, with and without lowess,
its themes), plotnine (the ggplot2 look), and R's base graphics (``plot(lm, which = 1)``) and ggplot2 through
``Rscript`` where R is installed (a line is printed and they are skipped where it is not). statsmodels has no
residual-vs-fitted drawing (its regression plots are against the regressors), so it is not a renderer here.
Drawing code: ``benchmarks/real_renderers.py``.

Both sides of "not a residual plot" are measured: the share of ``--negatives`` images per kind (QQ plots,
histograms, scatter with trend, bar, box and line charts, photo-like noise, blank and 1 x 1 images, drawn by
matplotlib/seaborn, never by the package's generator) answered ``unrecognized``, and the share of the real
renderers' residual plots wrongly answered ``unrecognized``.

Run: ``python benchmarks/renderers.py [--ckpt RUN_OR_FILE] [--against RUN_OR_FILE] --per-class 50 [--json
out.json]``; without ``--ckpt`` the bundled model (``PlotClassifier.pretrained()``) is read. ``--against`` reads
the same residual plots with a second file and prints the paired test (how many only each got right, McNemar's
exact p): a candidate's gate in one command. The model card's figures use
``--per-class 200`` (1,200 plots a renderer: enough to judge a 97 % recall goal per class; about 25 minutes of
drawing on 2 cores, once, with ``--cache``). Each accuracy comes with its Wilson 95 % interval. ``--n-range LO
HI`` and ``--n-scale uniform|log`` set the data sets' sample size (default: the reference's, uniform in
100..10,000), so that small-n plots, as analysts often have, can be measured: ``--n-range 20 500 --n-scale log``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_renderers as rr  # noqa: E402

from plotlstm.inference.classifier import PlotClassifier  # noqa: E402
from plotlstm.inference.metrics import paired_comparison  # noqa: E402
from plotlstm.inference.unrecognized import UNRECOGNIZED  # noqa: E402
from plotlstm.synth.simulate import (  # noqa: E402
    CLASSES,
    DEFAULT_SAMPLE_SIZE,
    N_RANGE,
    N_SCALES,
    SampleSize,
    check_sample_size,
    class_code,
    plot_rng,
    simulate,
)

BENCH_SEED = 10_000
"""Seed of the simulated data; the training presets use seeds 0-99."""
RENDERERS = ("r_base", "ggplot2", "plotnine", "seaborn", "matplotlib")
RENDERER_CODE = {name: i for i, name in enumerate(RENDERERS)}
NEGATIVE_CODE = 99


def renderer_rng(renderer: str, cls: str, index: int, seed: int = BENCH_SEED) -> np.random.Generator:
    """The look of one plot: independent of the data's rng, the same for every run."""
    return np.random.default_rng([seed, 1 + RENDERER_CODE[renderer], class_code(cls), index])


def cache_folder(cache: Path, seed: int, sample: SampleSize | None = None) -> Path:
    """Where the plots of ``seed`` (and sample size ``sample``) are cached: ``seed<seed>`` for the reference's n
    (the folder of earlier runs, still valid), ``seed<seed>-n<low>-<high>-<scale>`` for any other."""
    if sample is None or sample == DEFAULT_SAMPLE_SIZE:
        return cache / f"seed{seed}"
    return cache / f"seed{seed}-n{sample.low}-{sample.high}-{sample.scale}"


def available_renderers(wanted: Sequence[str]) -> list[str]:
    """``wanted`` less those whose software is missing (one printed line each)."""
    out = []
    for name in wanted:
        if name == "r_base" and not rr.r_available():
            print("r_base: skipped, Rscript is not on PATH (Debian: apt-get install r-base-core)")
        elif name == "ggplot2" and not rr.r_has_ggplot2():
            print("ggplot2: skipped, Rscript or R's ggplot2 is missing (Debian: r-base-core r-cran-ggplot2)")
        else:
            out.append(name)
    return out


def draw(
    renderer: str,
    classes: Sequence[str],
    per_class: int,
    seed: int = BENCH_SEED,
    cache: Path | None = None,
    sample: SampleSize | None = None,
) -> list[tuple[str, Image.Image]]:
    """(true class, image) for ``per_class`` plots of each class, drawn by ``renderer``; ``sample``: how each data
    set's n is drawn (default the reference's).

    With ``cache``, images are kept as PNGs under ``cache_folder(cache, seed, sample)/<renderer>/<class>_<i>.png``
    (lossless: the same pixels) and only the missing ones are drawn.
    """
    folder = cache_folder(cache, seed, sample) / renderer if cache else None
    wanted = [(cls, i) for cls in classes for i in range(per_class)]
    have: dict[tuple[str, int], Image.Image] = {}
    if folder:
        for cls, i in wanted:
            path = folder / f"{cls}_{i:05d}.png"
            if path.exists():
                with Image.open(path) as img:
                    have[(cls, i)] = img.convert("RGB")
    todo = [
        (cls, i, simulate(cls, plot_rng(seed, cls, i), None, sample))
        for cls, i in wanted
        if (cls, i) not in have
    ]
    drawn: dict[tuple[str, int], Image.Image] = {}
    if todo and renderer in ("r_base", "ggplot2"):
        items = [(s.y, s.fitted, renderer_rng(renderer, cls, i, seed)) for cls, i, s in todo]
        images = rr.r_plots("base" if renderer == "r_base" else "ggplot2", items)
        drawn = {(cls, i): img for (cls, i, _), img in zip(todo, images, strict=True)}
    elif todo:
        fn = rr.PYTHON_RENDERERS[renderer]
        drawn = {
            (cls, i): fn(s.fitted, s.residuals, renderer_rng(renderer, cls, i, seed)) for cls, i, s in todo
        }
    if folder and drawn:
        folder.mkdir(parents=True, exist_ok=True)
        for (cls, i), img in drawn.items():
            img.save(folder / f"{cls}_{i:05d}.png")
    have.update(drawn)
    return [(cls, have[(cls, i)]) for cls, i in wanted]


def draw_negatives(
    per_kind: int, seed: int = BENCH_SEED, cache: Path | None = None
) -> list[tuple[str, Image.Image]]:
    """(kind, image) for ``per_kind`` images of each kind of non-plot (cached like :func:`draw`)."""
    folder = cache / f"seed{seed}" / "negatives" if cache else None
    out = []
    for k, kind in enumerate(rr.NEGATIVE_KINDS):
        for i in range(per_kind):
            path = folder / f"{kind}_{i:05d}.png" if folder else None
            if path and path.exists():
                with Image.open(path) as img:
                    out.append((kind, img.convert("RGB")))
                continue
            img = rr.negative(kind, np.random.default_rng([seed, NEGATIVE_CODE, k, i]))
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                img.save(path)
            out.append((kind, img))
    return out


def score(truth: Sequence[str], labels: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy (with its Wilson 95 % interval), per-class recall and the share answered ``unrecognized`` of
    residual plots."""
    t, p = np.asarray(truth), np.asarray(labels)
    low, high = proportion_confint(int(np.sum(t == p)), len(t), alpha=0.05, method="wilson")
    return {
        "n": len(t),
        "accuracy": float(np.mean(t == p)),
        "interval": [float(low), float(high)],
        "recall": {c: float(np.mean(p[t == c] == c)) for c in classes if np.any(t == c)},
        "unrecognized": float(np.mean(p == UNRECOGNIZED)),
    }


def run(
    classifier: PlotClassifier,
    renderers: Sequence[str],
    per_class: int,
    negatives_per_kind: int,
    seed: int = BENCH_SEED,
    save: Path | None = None,
    cache: Path | None = None,
    sample: SampleSize | None = None,
    against: PlotClassifier | None = None,
) -> dict[str, Any]:
    """Draw, classify and score every renderer's plots and the negatives; the result as a dict. ``sample``: the
    data sets' sample size (default the reference's; negatives have none). ``against``: a second classifier read
    on the same residual plots; ``result["paired"]`` holds how many only ``classifier`` got right, how many only
    ``against``, and McNemar's exact p."""
    classes = [c for c in classifier.classes if c in CLASSES]
    sample = sample or DEFAULT_SAMPLE_SIZE
    result: dict[str, Any] = {
        "checkpoint": classifier.checkpoint,
        "seed": seed,
        "n_range": [sample.low, sample.high],
        "n_scale": sample.scale,
        "classes": classes,
    }
    per_renderer: dict[str, Any] = {}
    all_truth: list[str] = []
    all_labels: list[str] = []
    other_labels: list[str] = []
    for name in available_renderers(renderers):
        start = time.perf_counter()
        drawn = draw(name, classes, per_class, seed, cache, sample)
        drawn_s = time.perf_counter() - start
        preds = classifier.predict([img for _, img in drawn])
        labels = [p.label for p in preds]
        truth = [cls for cls, _ in drawn]
        per_renderer[name] = {**score(truth, labels, classes), "draw_s": round(drawn_s, 1)}
        all_truth += truth
        all_labels += labels
        if against is not None:
            other_labels += [p.label for p in against.predict([img for _, img in drawn])]
        if save:
            _save(save / name, drawn, labels)
    result["renderers"] = per_renderer
    if against is not None and all_truth:
        right = [label == t for label, t in zip(all_labels, all_truth, strict=True)]
        other = [label == t for label, t in zip(other_labels, all_truth, strict=True)]
        only_it, only_against, p = paired_comparison(other, right)
        result["paired"] = {
            "against": against.checkpoint,
            "against_accuracy": float(np.mean(other)),
            "only_it": only_it,
            "only_against": only_against,
            "p": p,
        }
    if all_truth:
        result["all_renderers"] = score(all_truth, all_labels, classes)
    if negatives_per_kind:
        negs = draw_negatives(negatives_per_kind, seed, cache)
        labels = [p.label for p in classifier.predict([img for _, img in negs])]
        kinds = [k for k, _ in negs]
        caught = np.asarray(labels) == UNRECOGNIZED
        result["negatives"] = {
            "n": len(negs),
            "caught": float(caught.mean()),
            "per_kind": {k: float(caught[np.asarray(kinds) == k].mean()) for k in rr.NEGATIVE_KINDS},
        }
        if save:
            _save(save / "negatives", negs, labels)
    return result


def _save(folder: Path, drawn: Sequence[tuple[str, Image.Image]], labels: Sequence[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, ((truth, img), label) in enumerate(zip(drawn, labels, strict=True)):
        img.save(folder / f"{truth}_{i:04d}_as_{label}.png")


def print_table(result: dict[str, Any]) -> None:
    classes = result["classes"]
    head = [
        "renderer",
        "n",
        "accuracy",
        "95% interval",
        *(f"recall {c}" for c in classes),
        "wrongly unrecognized",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    rows = dict(result["renderers"])
    if "all_renderers" in result:
        rows["**all**"] = result["all_renderers"]
    for name, r in rows.items():
        recalls = [f"{100 * r['recall'][c]:.1f}%" if c in r["recall"] else "-" for c in classes]
        print(
            f"| {name} | {r['n']} | {100 * r['accuracy']:.2f}% | "
            f"{100 * r['interval'][0]:.1f}-{100 * r['interval'][1]:.1f}% | "
            + " | ".join(recalls)
            + f" | {100 * r['unrecognized']:.2f}% |"
        )
    neg = result.get("negatives")
    if neg:
        kinds = ", ".join(f"{k} {100 * v:.0f}%" for k, v in neg["per_kind"].items())
        print(f"\nnon-plots answered unrecognized: {100 * neg['caught']:.1f}% of {neg['n']} ({kinds})")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ckpt", default=None, help="checkpoint file or run folder (default: the bundled model)"
    )
    parser.add_argument(
        "--against", default=None, help="a second checkpoint read on the same plots: the paired test"
    )
    parser.add_argument("--per-class", type=int, default=50, help="plots per class and renderer")
    parser.add_argument(
        "--negatives", type=int, default=None, help="non-plots per kind (default: --per-class)"
    )
    parser.add_argument("--renderers", nargs="+", default=list(RENDERERS), choices=RENDERERS)
    parser.add_argument("--seed", type=int, default=BENCH_SEED)
    parser.add_argument(
        "--n-range",
        type=int,
        nargs=2,
        metavar=("LO", "HI"),
        default=list(N_RANGE),
        help="each data set's sample size n is drawn from LO..HI (default: the reference's 100 10000)",
    )
    parser.add_argument(
        "--n-scale", default="uniform", choices=N_SCALES, help="how n is drawn (default: uniform)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument(
        "--save", type=Path, default=None, help="also save every image (named truth_i_as_label)"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="keep drawn images here; draw only missing ones"
    )
    parser.add_argument("--draw-only", action="store_true", help="only fill --cache for --classes")
    parser.add_argument("--classes", nargs="+", default=None, help="with --draw-only: the classes to draw")
    args = parser.parse_args(argv)
    if args.per_class < 1:
        parser.error("--per-class: must be at least 1")
    try:
        sample = check_sample_size(args.n_range, args.n_scale)
    except ValueError as err:
        parser.error(f"--{err}".replace("_", "-", 1))
    if args.draw_only:
        if not args.cache or not args.classes:
            parser.error("--draw-only: give --cache and --classes")
        for name in available_renderers(args.renderers):
            draw(name, args.classes, args.per_class, args.seed, args.cache, sample)
        draw_negatives(args.per_class if args.negatives is None else args.negatives, args.seed, args.cache)
        return {}
    clf = PlotClassifier.load(args.ckpt)
    negatives = args.per_class if args.negatives is None else args.negatives
    start = time.perf_counter()
    against = PlotClassifier.load(args.against) if args.against else None
    result = run(
        clf, args.renderers, args.per_class, negatives, args.seed, args.save, args.cache, sample, against
    )
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(
        f"checkpoint {result['checkpoint']}, seed {args.seed}, {args.per_class} plots per class and renderer, "
        f"n {sample.scale} in {sample.low}..{sample.high}"
    )
    print_table(result)
    if "paired" in result:
        pair = result["paired"]
        print(
            f"\nagainst {pair['against']} ({100 * pair['against_accuracy']:.2f}% of the residual plots): "
            f"{pair['only_it']} only this checkpoint right, {pair['only_against']} only the other; "
            f"McNemar p {pair['p']:.3f}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
