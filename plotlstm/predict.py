"""``python -m plotlstm.predict ckpt_path=... inputs=[files or folders]``: one row per image."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig
from rich.console import Console
from rich.table import Table
from torchvision.datasets.folder import IMG_EXTENSIONS
from tqdm import tqdm

from plotlstm.atomic import atomic_path, write_json
from plotlstm.cli import command
from plotlstm.errors import DataError, PlotLSTMError
from plotlstm.inference.classifier import PlotClassifier

OUTPUT_FORMATS = (".csv", ".json")


@dataclass(frozen=True)
class PredictionRow:
    """One input file: its predicted class and class probabilities, or (class empty) why it could not be read."""

    path: str
    label: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str = ""


def expand_inputs(inputs: str | Path | Iterable[str | Path]) -> list[Path]:
    """Files as given; folders expanded recursively to their image files (by extension), sorted.

    A folder without image files stays in the list as itself, so that it gets an error row.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    paths: list[Path] = []
    for item in inputs:
        path = Path(str(item))
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMG_EXTENSIONS and p.is_file())
            paths += found or [path]
        else:
            paths.append(path)
    return paths


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def predict_files(
    classifier: PlotClassifier, paths: Sequence[str | Path], progress: bool = False
) -> list[PredictionRow]:
    """Classify image files; a file that cannot be read gets an error row and the others still run.

    Each file goes through :meth:`PlotClassifier.prepare`; readable images are batched ``batch_size`` at a time
    through :meth:`PlotClassifier.predict_batch`, so the answers equal ``classifier.predict(readable_paths)``.
    """
    rows: list[PredictionRow | None] = [None] * len(paths)
    pending: list[tuple[int, torch.Tensor]] = []

    def flush() -> None:
        probs = classifier.predict_batch([x for _, x in pending])
        sources = [str(paths[i]) for i, _ in pending]
        images = [x for _, x in pending]
        for (i, _), pred in zip(pending, classifier.to_predictions(probs, sources, images), strict=True):
            rows[i] = PredictionRow(pred.source, pred.label, pred.probabilities)
        pending.clear()

    with tqdm(total=len(paths), desc="predict", unit="img", disable=not progress, leave=False) as bar:
        for i, path in enumerate(paths):
            if Path(path).is_dir():
                rows[i] = PredictionRow(str(path), error=f"{path}: no image files in this folder")
            else:
                try:
                    pending.append((i, classifier.prepare(path)))
                except DataError as err:
                    rows[i] = PredictionRow(str(path), error=_one_line(err))
            if len(pending) == classifier.batch_size:
                flush()
            bar.update(1)
        if pending:
            flush()
    return [row for row in rows if row is not None]


def row_dict(row: PredictionRow, classes: Sequence[str]) -> dict[str, Any]:
    """A row for CSV: ``path``, ``class``, ``p_<class>`` for each class, ``error``."""
    return {
        "path": row.path,
        "class": row.label,
        **{f"p_{c}": repr(row.probabilities[c]) if c in row.probabilities else "" for c in classes},
        "error": row.error,
    }


def write_rows(rows: Sequence[PredictionRow], classes: Sequence[str], path: str | Path) -> Path:
    """Write the rows to ``.csv`` or ``.json`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise PlotLSTMError(f"output: {path} must end in .csv or .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        data = {
            "classes": list(classes),
            "predictions": [
                {"path": r.path, "class": r.label, "probabilities": r.probabilities, "error": r.error}
                for r in rows
            ],
        }
        return write_json(path, data)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["path", "class", *(f"p_{c}" for c in classes), "error"])
        writer.writeheader()
        writer.writerows(row_dict(r, classes) for r in rows)
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


def print_rows(
    rows: Sequence[PredictionRow],
    classes: Sequence[str],
    limit: int | None = None,
    console: Console | None = None,
) -> None:
    """The rows as a rich table (the first ``limit``), the reasons of the error rows, and the counts."""
    console = console or Console()
    base = _common_folder([r.path for r in rows])
    table = Table(title=f"paths under {base}" if base else None, title_justify="left")
    shown = rows if limit is None else rows[:limit]
    names = [os.path.relpath(r.path, base) if base else r.path for r in shown]
    table.add_column("path", overflow="fold", min_width=min(24, max(map(len, names), default=4)))
    table.add_column("class")
    for c in classes:
        table.add_column(c, justify="right")
    for name, r in zip(names, shown, strict=True):
        probs = [f"{r.probabilities[c]:.3f}" if c in r.probabilities else "" for c in classes]
        table.add_row(name, f"[bold]{r.label}[/bold]" if r.label else "[red]error[/red]", *probs)
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"... {len(rows) - len(shown)} more rows (table_rows={limit})")
    for r in shown:  # the reasons under the table, where they have the whole width
        if r.error:
            console.print(f"[red]error[/red] {r.error}", soft_wrap=True, highlight=False)
    failed = sum(1 for r in rows if r.error)
    console.print(f"{len(rows) - failed} classified, {failed} not readable")


@command("predict")
def main(cfg: DictConfig) -> None:
    inputs = cfg.get("inputs") or []
    inputs = list(inputs) if isinstance(inputs, (list, ListConfig)) else [inputs]
    if not inputs:
        raise PlotLSTMError("inputs: give image files or folders, e.g. inputs=[plot.png,plots/]")
    output = cfg.get("output")
    if output and Path(output).suffix.lower() not in OUTPUT_FORMATS:
        raise PlotLSTMError(f"output: {output} must end in .csv or .json")
    classifier = PlotClassifier.load(cfg.get("ckpt_path"), device=cfg.device, batch_size=cfg.batch_size)
    paths = expand_inputs(inputs)
    rows = predict_files(classifier, paths, progress=cfg.progress and len(paths) > 1)
    console = Console()
    print_rows(rows, classifier.classes, cfg.get("table_rows"), console)
    if output:
        console.print(
            f"predictions: {write_rows(rows, classifier.classes, output)}", highlight=False, soft_wrap=True
        )


if __name__ == "__main__":
    main()
