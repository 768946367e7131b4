"""The one result type (``Prediction``) and its one writer (CSV or JSON) and terminal table."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from plotlstm.atomic import atomic_path, write_json
from plotlstm.errors import PlotLSTMError

OUTPUT_FORMATS = (".csv", ".json")


@dataclass(frozen=True)
class Prediction:
    """One image's answer: the most probable class and every class's probability; or (``label`` empty) why the
    image could not be read. ``true`` is the known class where there is one (evaluation)."""

    source: str
    label: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str = ""
    true: str = ""

    @property
    def confidence(self) -> float:
        """The label's probability; for ``unrecognized`` by a rule (not a model class), 1 - the top probability."""
        if not self.label:
            return float("nan")
        if self.label in self.probabilities:
            return self.probabilities[self.label]
        return 1.0 - max(self.probabilities.values(), default=0.0)

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.probabilities)

    def as_dict(self) -> dict[str, Any]:
        """For JSON: ``path``, ``class``, ``probabilities``, ``error`` (and ``true`` where known)."""
        row = {
            "path": self.source,
            "class": self.label,
            "probabilities": self.probabilities,
            "error": self.error,
        }
        return row | ({"true": self.true} if self.true else {})


def check_output(path: str | Path | None) -> None:
    """Refuse an output path of an unknown format before any work."""
    if path and Path(path).suffix.lower() not in OUTPUT_FORMATS:
        raise PlotLSTMError(f"output: {path} must end in .csv or .json")


def write_predictions(rows: Sequence[Prediction], classes: Sequence[str], path: str | Path) -> Path:
    """Write the rows to ``.csv`` (``path``, [``true``,] ``class``, ``p_<class>``..., ``error``) or ``.json``,
    atomically (a temporary file, then a rename)."""
    path = Path(path)
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        return write_json(path, {"classes": list(classes), "predictions": [r.as_dict() for r in rows]})
    with_truth = any(r.true for r in rows)
    columns = ["path", *(["true"] if with_truth else []), "class", *(f"p_{c}" for c in classes), "error"]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for r in rows:
            probs = {f"p_{c}": repr(r.probabilities[c]) if c in r.probabilities else "" for c in classes}
            truth = {"true": r.true} if with_truth else {}
            writer.writerow({"path": r.source, **truth, "class": r.label, **probs, "error": r.error})
    return path


def _common_folder(paths: Sequence[str]) -> str:
    """The deepest folder holding all ``paths`` (to shorten the table's path column); "" if none."""
    try:
        common = os.path.commonpath([os.path.abspath(p) for p in paths])
    except ValueError:  # empty, or mixed drives
        return ""
    if any(os.path.abspath(p) == common for p in paths):
        common = os.path.dirname(common)
    return "" if common in ("", os.sep) else common


def print_predictions(
    rows: Sequence[Prediction],
    classes: Sequence[str],
    limit: int | None = None,
    console: Console | None = None,
) -> None:
    """The rows as a rich table (the first ``limit``), the reasons of the error rows, and the counts."""
    console = console or Console()
    base = _common_folder([r.source for r in rows])
    table = Table(title=f"paths under {escape(base)}" if base else None, title_justify="left")
    shown = rows if limit is None else rows[:limit]
    names = [os.path.relpath(r.source, base) if base else r.source for r in shown]
    table.add_column("path", overflow="fold", min_width=min(24, max(map(len, names), default=4)))
    table.add_column("class")
    for c in classes:
        table.add_column(escape(c), justify="right")
    for name, r in zip(names, shown, strict=True):
        probs = [f"{r.probabilities[c]:.3f}" if c in r.probabilities else "" for c in classes]
        label = f"[bold]{escape(r.label)}[/bold]" if r.label else "[red]error[/red]"
        table.add_row(escape(name), label, *probs)
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"... {len(rows) - len(shown)} more rows (table_rows={limit})")
    errors = Console(stderr=True)
    for r in shown:  # the reasons go to stderr, as errors do; the table and the counts to stdout
        if r.error:
            errors.print(f"[red]error[/red] {escape(r.error)}", soft_wrap=True, highlight=False)
    failed = sum(1 for r in rows if r.error)
    console.print(f"{len(rows) - failed} classified, {failed} not readable")
