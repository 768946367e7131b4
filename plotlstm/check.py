"""``python -m plotlstm.check input=data.csv formula="y ~ x1 + C(g)"`` (or ``fitted=COL residuals=COL``).

Fits the formula with statsmodels (:func:`plotlstm.inference.formula.fit_formula`, or takes the two columns),
draws the residual plot in memory and prints the verdict; ``output=`` writes it as CSV or JSON, ``plot=`` saves
the plot. The console script ``plotlstm-check`` runs this module the same way.

This module is the command only. ``plotlstm.check`` is the library call (:func:`plotlstm.inference.check.check`),
and importing a module of that name would bind the package's attribute to the module: the import is refused, in
one line saying so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig
from rich.console import Console
from rich.markup import escape

from plotlstm.atomic import atomic_path
from plotlstm.cli import command, hydra_quoted, required
from plotlstm.errors import CheckError
from plotlstm.inference.check import NULL_PLOTS, check_many, load_classifier
from plotlstm.inference.formula import fit_formula, read_table
from plotlstm.inference.results import check_output, print_results, write_results

if __name__ != "__main__":
    raise ImportError(
        "plotlstm.check is the command (python -m plotlstm.check, plotlstm-check), not a module to import; "
        "the library call is plotlstm.check(fit) after `import plotlstm`"
    )


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
    check_output(cfg.get("output"))
    frame = read_table(source)
    name = Path(str(source)).name
    if formulas:
        return {str(f): fit_formula(frame, str(f), name) for f in formulas}
    for column in (fitted, residuals):
        if column not in frame.columns:
            columns = ", ".join(map(str, frame.columns))
            raise CheckError(f"{column!r} is not a column of {name} (columns: {columns})")
    return {f"{fitted} / {residuals}": {"fitted": frame[fitted], "residuals": frame[residuals]}}


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
    print_results(results, classifier.classes, console=console)
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


def main() -> None:
    """The command: Hydra's overrides with a bare ``formula=y ~ x`` quoted."""
    sys.argv = [sys.argv[0], *map(hydra_quoted, sys.argv[1:])]
    run()


if __name__ == "__main__":
    main()
