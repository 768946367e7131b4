"""``python -m plotlstm.predict inputs=[files or folders] [ckpt_path=RUN] [output=preds.csv]``: one row per image
(the bundled model unless ``ckpt_path`` names another)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from omegaconf import DictConfig, ListConfig
from rich.console import Console
from torchvision.datasets.folder import IMG_EXTENSIONS

from plotlstm.cli import check_batch_size, check_writable_file, command
from plotlstm.errors import EXIT_NOTHING_DONE, PlotLSTMError
from plotlstm.inference.classifier import PlotClassifier, pick_device
from plotlstm.inference.results import check_output, print_results, write_results


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


@command("predict")
def main(cfg: DictConfig) -> None:
    """Exit status: 0 when at least one image was classified, 1 when none was, 2 on an error (one line)."""
    inputs = cfg.get("inputs") or []
    inputs = list(inputs) if isinstance(inputs, (list, ListConfig)) else [inputs]
    if not inputs:
        raise PlotLSTMError("inputs: give image files or folders, e.g. inputs=[plot.png,plots/]")
    output = cfg.get("output")
    check_output(output)
    if output:
        check_writable_file(output, "output")
    check_batch_size(cfg.batch_size)
    pick_device(cfg.device)
    table_rows = cfg.get("table_rows")
    if table_rows is not None:
        check_batch_size(table_rows, "table_rows")
    # no ckpt_path: the bundled model
    classifier = PlotClassifier.load(cfg.get("ckpt_path"), device=cfg.device, batch_size=cfg.batch_size)
    paths = expand_inputs(inputs)
    rows = classifier.predict_files(paths, progress=cfg.progress and len(paths) > 1)
    written = write_results(rows, classifier.classes, output) if output else None
    console = Console()
    print_results(rows, classifier.classes, table_rows, console)
    if written:
        console.print(f"predictions: {written}", highlight=False, soft_wrap=True, markup=False)
    if not any(row.label for row in rows):
        raise SystemExit(EXIT_NOTHING_DONE)


if __name__ == "__main__":
    main()
