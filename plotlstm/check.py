"""``python -m plotlstm.check input=data.csv formula="y ~ x1 + C(g)"`` (or ``fitted=COL residuals=COL``).

Fits the formula with statsmodels (:func:`plotlstm.inference.formula.fit_formula`, or takes the two columns),
draws the residual plot in memory and prints the verdict; ``output=`` writes it as CSV or JSON, ``plot=`` saves
the plot. This module is also callable:
``plotlstm.check(fit)`` is :func:`plotlstm.inference.check.check` whether or not this module was imported.
"""

from __future__ import annotations

import csv
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from plotlstm.atomic import atomic_path, write_json
from plotlstm.cli import command, required
from plotlstm.errors import CheckError
from plotlstm.inference.check import NULL_PLOTS, CheckResult, check, check_many, load_classifier
from plotlstm.inference.formula import fit_formula, read_table

OUTPUT_FORMATS = (".csv", ".json")


def fits_from_config(cfg: DictConfig) -> dict[str, Any]:
    """Named fits from ``input`` and ``formula`` (one or a list) or ``fitted`` + ``residuals`` column names."""
    source = required(cfg, "input", "a .csv or .parquet file, e.g. input=data.csv")
    formulas = cfg.get("formula")
    formulas = list(formulas) if isinstance(formulas, (list, ListConfig)) else [formulas] if formulas else []
    fitted, residuals = cfg.get("fitted"), cfg.get("residuals")
    if formulas and (fitted or residuals):
        raise CheckError("give formula=... or fitted=COL residuals=COL, not both")
    if not formulas and not (fitted and residuals):
        raise CheckError('give formula="y ~ x1 + x2" or both fitted=COL and residuals=COL')
    if any(Path(str(p)).suffix.lower() not in OUTPUT_FORMATS for p in [cfg.get("output")] if p):
        raise CheckError(f"output: {cfg.output} must end in .csv or .json")
    frame = read_table(source)
    name = Path(str(source)).name
    if formulas:
        return {str(f): fit_formula(frame, str(f), name) for f in formulas}
    for column in (fitted, residuals):
        if column not in frame.columns:
            columns = ", ".join(map(str, frame.columns))
            raise CheckError(f"{column!r} is not a column of {name} (columns: {columns})")
    return {f"{fitted} / {residuals}": {"fitted": frame[fitted], "residuals": frame[residuals]}}


def write_results(results: Sequence[CheckResult], classes: Sequence[str], path: str | Path) -> Path:
    """The verdicts as ``.csv`` (name, class, p_value, image_class, p_<class>..., n, dropped, design, note,
    error) or ``.json``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        return write_json(path, {"classes": list(classes), "results": [r.to_dict() for r in results]})
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        head = ["name", "class", "p_value", "null_plots", "image_class", *(f"p_{c}" for c in classes)]
        writer.writerow([*head, "n", "dropped", "design", "note", "error"])
        for r in results:
            probs = [repr(r.probabilities[c]) if c in r.probabilities else "" for c in classes]
            p_value = "" if r.p_value is None else repr(r.p_value)
            row = [r.name, r.label, p_value, r.null_plots, r.image_label, *probs]
            writer.writerow([*row, r.n, r.dropped, r.design, r.note, r.error])
    return path


def print_results(results: Sequence[CheckResult], classes: Sequence[str], console: Console) -> None:
    """The verdict table (the verdict, its p-value, what the picture alone says with its probability, n); the
    notes and the reasons of failed fits under it. Every class's probability is in ``output=``'s file."""
    table = Table(title_justify="left")
    table.add_column("fit", overflow="fold")
    table.add_column("verdict")
    table.add_column("p", justify="right")
    table.add_column("picture alone")
    table.add_column("n", justify="right")
    for r in results:
        words = "no evidence" if r.label == "none" and r.p_value is not None else r.label
        verdict = f"[bold]{escape(words)}[/bold]" if r.ok else "[red]error[/red]"
        p_value = "" if r.p_value is None else f"{r.p_value:.3g}"
        picture = (
            f"{escape(r.image_label)} ({r.probabilities[r.image_label]:.2f})"
            if r.image_label in r.probabilities
            else escape(r.image_label)
        )
        n = f"{r.n:,}" + (f" (-{r.dropped})" if r.dropped else "")
        table.add_row(escape(r.name), verdict, p_value, picture, n)
    console.print(table)
    for r in results:
        if r.error:
            console.print(f"[red]error[/red] {escape(r.error)}", soft_wrap=True, highlight=False)
        elif r.note:
            console.print(f"{escape(r.name)}: {escape(r.note)}", soft_wrap=True, highlight=False)
    tested = [r for r in results if r.p_value is not None]
    if tested:
        console.print(
            f"verdict: a violation when p <= {tested[0].alpha} against {tested[0].null_plots} null plots of the "
            "same fit (docs/check.md); picture: the model's label on the plot alone",
            highlight=False,
            soft_wrap=True,
        )


@command("check")
def run(cfg: DictConfig) -> None:
    fits = fits_from_config(cfg)
    classifier = load_classifier(cfg.get("ckpt_path"), device=cfg.get("device", "auto"))
    results = check_many(
        list(fits.values()),
        list(fits),
        classifier,
        bool(cfg.get("drop_nonfinite", False)),
        null_plots=cfg.get("null_plots", NULL_PLOTS),
        alpha=cfg.get("alpha", 0.05),
        seed=cfg.get("seed", 0),
    )
    if len(results) == 1 and not results[0].ok:
        raise CheckError(results[0].error)
    console = Console()
    print_results(results, classifier.classes, console)
    if cfg.get("output"):
        written = write_results(results, classifier.classes, cfg.output)
        console.print(f"verdicts: {escape(str(written))}", highlight=False, soft_wrap=True)
    if cfg.get("plot"):
        plot = Path(str(cfg.plot))
        drawn = [r for r in results if r.ok]
        for i, r in enumerate(drawn):
            target = (
                plot if len(drawn) == 1 else plot.with_name(f"{plot.stem}-{i + 1}{plot.suffix or '.png'}")
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                tmp.write_bytes(r.png())
            console.print(f"plot: {escape(str(target))}", highlight=False, soft_wrap=True)


def hydra_quoted(arg: str) -> str:
    """``formula=y ~ x1`` as ``formula='y ~ x1'``: Hydra's override grammar reads a bare ``~`` as an operator."""
    key, sep, value = arg.partition("=")
    if key != "formula" or not sep or value[:1] in ("'", '"', "["):
        return arg
    return "formula='" + value.replace("'", "\\'") + "'"


def main() -> None:
    """The command's entry point (``python -m plotlstm.check``, ``plotlstm-check``)."""
    sys.argv = [sys.argv[0], *map(hydra_quoted, sys.argv[1:])]
    run()


class _CallableModule(types.ModuleType):
    """This module, callable: ``plotlstm.check(...)`` stays the library call once ``plotlstm.check`` is imported
    (the import binds the package attribute to the module)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    main()
