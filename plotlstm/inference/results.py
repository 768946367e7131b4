"""The one result type (``Result``: an image's ``Prediction`` or a fit's ``CheckResult``), its one writer (CSV or
JSON) and its one terminal table."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from plotlstm.atomic import atomic_path, write_json
from plotlstm.errors import PlotLSTMError

OUTPUT_FORMATS = (".csv", ".json")


@dataclass(frozen=True, eq=False)
class Result:
    """One answer: the class and every class's probability; or (``label`` empty) ``error``, why there is none.

    ``name`` is what was answered (an image's path, a fit's name). Subclasses add their own columns
    (:meth:`columns`, :meth:`cells`) to the shared writer and table."""

    name: str
    label: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str = ""

    KEY: ClassVar[str] = "name"
    """The first column's heading, in the files and the table."""
    COLLECTION: ClassVar[str] = "results"
    """The JSON file's list of rows."""
    HEADINGS: ClassVar[tuple[str, ...]] = ("class",)
    """The table's columns after the name (then, where :meth:`cells` gives them, one per class)."""
    PER_CLASS_CELLS: ClassVar[bool] = True

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def confidence(self) -> float:
        """The label's probability; for ``unrecognized`` by a rule (not a model class), 1 - the top probability."""
        if not self.label:
            return float("nan")
        if self.label in self.probabilities:
            return self.probabilities[self.label]
        return 1.0 - max(self.probabilities.values(), default=0.0)

    @property
    def note(self) -> str:
        """A remark printed under the table (none here)."""
        return ""

    def columns(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The CSV's columns before and after the ``p_<class>`` ones."""
        return {self.KEY: self.name, "class": self.label}, {"error": self.error}

    def as_dict(self) -> dict[str, Any]:
        """For JSON: the columns, with ``probabilities`` as one mapping."""
        head, tail = self.columns()
        return head | {"probabilities": dict(self.probabilities)} | tail

    def cells(self) -> list[str]:
        """The table's cells after the name, one per :attr:`HEADINGS` (rich markup)."""
        return [f"[bold]{escape(self.label)}[/bold]" if self.ok else "[red]error[/red]"]

    @classmethod
    def footer(cls, rows: Sequence[Result]) -> str:
        """The line under the table."""
        failed = sum(1 for r in rows if r.error)
        return f"{len(rows) - failed} answered, {failed} failed"


@dataclass(frozen=True, eq=False, kw_only=True)
class Prediction(Result):
    """One image's answer; ``true`` is the known class where there is one (evaluation)."""

    true: str = ""

    KEY: ClassVar[str] = "path"
    COLLECTION: ClassVar[str] = "predictions"

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.probabilities)

    def columns(self) -> tuple[dict[str, Any], dict[str, Any]]:
        head, tail = super().columns()
        return ({self.KEY: self.name, "true": self.true, "class": self.label} if self.true else head), tail

    @classmethod
    def footer(cls, rows: Sequence[Result]) -> str:
        failed = sum(1 for r in rows if r.error)
        return f"{len(rows) - failed} classified, {failed} not readable"


def check_output(path: str | Path | None) -> None:
    """Refuse an output path of an unknown format before any work."""
    if path and Path(path).suffix.lower() not in OUTPUT_FORMATS:
        raise PlotLSTMError(f"output: {path} must end in .csv or .json")


def _kind(rows: Sequence[Result]) -> type[Result]:
    return type(rows[0]) if rows else Prediction


def write_results(rows: Sequence[Result], classes: Sequence[str], path: str | Path) -> Path:
    """Write the rows to ``.csv`` (the row kind's columns around ``p_<class>``...) or ``.json`` (``classes`` and
    the rows), atomically (a temporary file, then a rename)."""
    path = Path(path)
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        return write_json(
            path, {"classes": list(classes), _kind(rows).COLLECTION: [r.as_dict() for r in rows]}
        )
    parts = [r.columns() for r in rows]
    probs = [f"p_{c}" for c in classes]
    head = max((list(h) for h, _ in parts), key=len, default=[_kind(rows).KEY, "class"])
    tail = max((list(t) for _, t in parts), key=len, default=["error"])
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, [*head, *probs, *tail], restval="")
        writer.writeheader()
        for r, (h, t) in zip(rows, parts, strict=True):
            p = {f"p_{c}": repr(r.probabilities[c]) for c in classes if c in r.probabilities}
            writer.writerow(h | p | t)
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


def print_results(
    rows: Sequence[Result],
    classes: Sequence[str],
    limit: int | None = None,
    console: Console | None = None,
) -> None:
    """The rows as a rich table (the first ``limit``), the notes, the reasons of the failed rows (on stderr, as
    errors go) and the footer."""
    console = console or Console()
    kind = _kind(rows)
    base = _common_folder([r.name for r in rows]) if kind.KEY == "path" else ""
    table = Table(title=f"paths under {escape(base)}" if base else None, title_justify="left")
    shown = rows if limit is None else rows[:limit]
    names = [os.path.relpath(r.name, base) if base else r.name for r in shown]
    table.add_column(kind.KEY, overflow="fold", min_width=min(24, max(map(len, names), default=4)))
    for heading in kind.HEADINGS:
        table.add_column(heading, justify="right" if heading in ("p", "n") else "left")
    if kind.PER_CLASS_CELLS:
        for c in classes:
            table.add_column(escape(c), justify="right")
    for name, r in zip(names, shown, strict=True):
        probs = [f"{r.probabilities[c]:.3f}" if c in r.probabilities else "" for c in classes]
        table.add_row(escape(name), *r.cells(), *(probs if kind.PER_CLASS_CELLS else []))
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"... {len(rows) - len(shown)} more rows (table_rows={limit})")
    errors = Console(stderr=True)
    for r in shown:
        if r.error:
            errors.print(f"[red]error[/red] {escape(r.error)}", soft_wrap=True, highlight=False)
        elif r.note:
            console.print(f"{escape(r.name)}: {escape(r.note)}", soft_wrap=True, highlight=False)
    console.print(kind.footer(rows), highlight=False, soft_wrap=True)
