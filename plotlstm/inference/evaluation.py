"""Evaluate a checkpoint on an ImageFolder: metrics, figures and a gallery of mistakes (``evaluate()``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from torch.utils.data import DataLoader

from plotlstm.atomic import write_json
from plotlstm.data.folder import PlotFolder, check_split
from plotlstm.errors import CheckpointError, DataError
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.figures import (
    confusion_matrix_figure,
    misclassified_gallery,
    read_history,
    run_folder,
    training_curves_figure,
)
from plotlstm.inference.metrics import classification_report
from plotlstm.inference.results import Prediction, write_results
from plotlstm.progress import track

log = logging.getLogger(__name__)


def data_folder(root: str | Path, split: str | None) -> Path:
    """``root/split`` (``split`` empty or None: ``root`` itself is the ImageFolder folder)."""
    if root in (None, ""):
        raise DataError("data.root: give the data folder, e.g. data.root=data/quickstart")
    root = Path(root)
    if split and not (root / split).is_dir() and root.is_dir():
        raise DataError(
            f"data.root: {root} has no {split!r} folder; give split=NAME, or split=null to use {root} itself"
        )
    return root / split if split else root


def load_folder(classifier: PlotClassifier, folder: Path, skip_unreadable: bool = False) -> PlotFolder:
    """The ImageFolder at ``folder`` read as the checkpoint was trained; its classes must be the checkpoint's."""
    classes = check_split(folder, "")
    unknown = [c for c in classes if c not in classifier.classes]
    if unknown:
        raise CheckpointError(
            f"ckpt_path: {classifier.checkpoint} was trained on classes {classifier.classes}, "
            f"but {folder} has {classes} ({', '.join(unknown)} unknown)"
        )
    dataset = PlotFolder(
        folder,
        classifier.image_size,
        classifier.interpolation,
        skip_unreadable,
        class_names=classifier.classes,
    )
    if not dataset.samples:
        raise DataError(f"data.root: no readable images in {folder}")
    return dataset


def predict_folder(
    classifier: PlotClassifier,
    dataset: PlotFolder,
    batch_size: int | None = None,
    num_workers: int = 0,
    progress: bool = False,
) -> tuple[list[Prediction], torch.Tensor, torch.Tensor]:
    """Every image of ``dataset`` through :meth:`PlotClassifier.probabilities`: its predictions (with the true
    class), the (N, K) probabilities and the (N,) true class indices."""
    loader = DataLoader(dataset, batch_size=batch_size or classifier.batch_size, num_workers=num_workers)
    batches = track(loader, "evaluate", len(loader), progress)
    probs = classifier.probabilities(x for x, _ in batches)
    targets = torch.as_tensor(dataset.targets, dtype=torch.long)
    paths = [path for path, _ in dataset.samples]
    truths = [classifier.classes[t] for t in dataset.targets]
    return list(classifier.to_predictions(probs, paths, truths)), probs, targets


def evaluate(
    ckpt_path: str | Path | None,
    data_root: str | Path,
    split: str | None = "test",
    out_dir: str | Path | None = None,
    batch_size: int = 64,
    device: str = "auto",
    num_workers: int = 0,
    skip_unreadable: bool = False,
    gallery_size: int = 100,
    thumb_size: int = 160,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate a checkpoint (file or training run folder; None: the bundled model) on ``data_root/split``.

    With ``out_dir``, also write ``metrics.json``, ``predictions.csv``, ``confusion_matrix.png``,
    ``training_curves.png`` (when the checkpoint lies in a training run with an epoch log),
    ``misclassified.html`` with thumbnails in ``misclassified/``, and the contact sheet ``misclassified.png``.
    Everything is checked and computed before the first file is written.
    """
    classifier = PlotClassifier.load(ckpt_path, device=device, batch_size=batch_size)
    folder = data_folder(data_root, split)
    dataset = load_folder(classifier, folder, skip_unreadable)
    predictions, probs, targets = predict_folder(classifier, dataset, batch_size, num_workers, progress)
    classes = classifier.classes
    report = classification_report(probs, targets, classes)
    wrong = sorted((p for p in predictions if p.label != p.true), key=lambda p: -p.confidence)
    result: dict[str, Any] = {
        "checkpoint": classifier.checkpoint,
        "data": str(folder),
        **report,
        "misclassified": len(wrong),
        "files": {},
    }
    if out_dir is None:
        return result
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = result["files"]
    files["predictions"] = str(write_results(predictions, classes, out / "predictions.csv"))
    files["confusion_matrix"] = str(
        confusion_matrix_figure(
            report["confusion_matrix"], classes, out / "confusion_matrix.png", f"{folder} (n={report['n']})"
        )
    )
    history = read_history(run_folder(classifier.checkpoint))
    if history:
        files["training_curves"] = str(
            training_curves_figure(
                history, out / "training_curves.png", run_folder(classifier.checkpoint).name
            )
        )
    gallery = misclassified_gallery(wrong[:gallery_size], out, total=report["n"], thumb_size=thumb_size)
    files["misclassified_html"] = str(gallery["html"])
    files["misclassified_png"] = str(gallery["contact_sheet"])
    files["metrics"] = str(out / "metrics.json")
    write_json(out / "metrics.json", result)
    return result


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_report(result: dict[str, Any], console: Console | None = None) -> None:
    """The metrics as rich tables, then where the files are."""
    console = console or Console()
    classes = result["classes"]
    table = Table(title=f"{escape(result['data'])}: {result['n']} plots", title_justify="left")
    for name in ("class", "precision", "recall", "F1", "ROC AUC", "support"):
        table.add_column(name, justify="left" if name == "class" else "right")
    for name in classes:
        m = result["per_class"][name]
        table.add_row(
            escape(name),
            _fmt(m["precision"]),
            _fmt(m["recall"]),
            _fmt(m["f1"]),
            _fmt(m["auc"]),
            str(m["support"]),
        )
    macro = result["macro"]
    table.add_section()
    table.add_row(
        "macro",
        _fmt(macro["precision"]),
        _fmt(macro["recall"]),
        _fmt(macro["f1"]),
        _fmt(macro["auc"]),
        str(result["n"]),
    )
    console.print(table)
    cm = Table(title="confusion matrix (rows true, columns predicted)", title_justify="left")
    cm.add_column("true \\ predicted")
    for name in classes:
        cm.add_column(escape(name), justify="right")
    for name, row in zip(classes, result["confusion_matrix"], strict=True):
        cm.add_row(escape(name), *(str(v) for v in row))
    console.print(cm)
    ece = result.get("calibration_error")
    calibration = "" if ece is None else f"calibration error {ece:.4f}, "
    console.print(
        f"accuracy [bold]{result['accuracy']:.4f}[/bold], loss {result['loss']:.4f}, {calibration}"
        f"{result['misclassified']} misclassified; checkpoint {escape(result['checkpoint'])}"
    )
    for key, path in result["files"].items():
        console.print(f"  {key}: {path}", soft_wrap=True, highlight=False, markup=False)
