"""Figures for evaluation: confusion matrix, training curves, and the gallery of misclassified plots.

Every file is written atomically (a temporary file in the same folder, then a rename). Figures are drawn with
matplotlib's object API (no pyplot), so importing this module leaves the user's backend alone.
"""

from __future__ import annotations

import csv
import html
import math
import re
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image, ImageDraw

from plotlstm.atomic import atomic_path, write_text
from plotlstm.data.images import open_rgb
from plotlstm.errors import DataError
from plotlstm.inference.results import Prediction

HISTORY_COLUMNS = ("loss", "acc", "val_loss", "val_acc")


def _save_figure(fig: Figure, path: Path, dpi: int = 110) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    return path


def _save_image(img: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")
    return path


def confusion_matrix_figure(
    matrix: Sequence[Sequence[int]], classes: Sequence[str], path: str | Path, title: str = "Confusion matrix"
) -> Path:
    """Draw counts (rows: true class, columns: predicted), coloured by the row's share; write a PNG."""
    k = len(classes)
    counts = [[int(v) for v in row] for row in matrix]
    shares = [[v / max(1, sum(row)) for v in row] for row in counts]
    fig = Figure(figsize=(1.3 * k + 2.2, 1.1 * k + 1.6))
    ax = fig.subplots()
    im = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                f"{counts[i][j]}\n{shares[i][j]:.0%}",
                ha="center",
                va="center",
                color="white" if shares[i][j] > 0.5 else "black",
                fontsize=9,
            )
    ax.set_xticks(range(k), classes, rotation=30, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    return _save_figure(fig, Path(path))


def run_folder(checkpoint: str | Path) -> Path:
    """The training run folder of a checkpoint: ``<run>/checkpoints/x.ckpt`` -> ``<run>``, else its folder."""
    checkpoint = Path(checkpoint)
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def _float(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "") else math.nan
    except ValueError:
        return math.nan


def read_history(run: str | Path) -> dict[str, list[float]] | None:
    """Per-epoch ``epoch``, ``loss``, ``acc``, ``val_loss``, ``val_acc`` of a training run, or None if it has no log.

    Reads ``<run>/epoch-log.csv`` (``;``-separated, the seed's Keras columns) or else Lightning's
    ``<run>/csv/metrics.csv`` (``train/loss_epoch``, ``val/loss``, ...). Missing values are NaN.
    """
    run = Path(run)
    by_epoch: dict[int, dict[str, float]] = {}
    epoch_log, lightning_log = run / "epoch-log.csv", run / "csv" / "metrics.csv"
    if epoch_log.is_file():
        with epoch_log.open(newline="") as f:
            for row in csv.DictReader(f, delimiter=";"):
                if row.get("epoch", "") == "":
                    continue
                by_epoch[int(float(row["epoch"]))] = {c: _float(row.get(c)) for c in HISTORY_COLUMNS}
    elif lightning_log.is_file():
        keys = {
            "loss": ("train/loss_epoch", "train/loss"),
            "acc": ("train/acc_epoch", "train/acc"),
            "val_loss": ("val/loss",),
            "val_acc": ("val/acc",),
        }
        with lightning_log.open(newline="") as f:
            for row in csv.DictReader(f):
                if row.get("epoch", "") == "":
                    continue
                values = by_epoch.setdefault(
                    int(float(row["epoch"])), dict.fromkeys(HISTORY_COLUMNS, math.nan)
                )
                for col, names in keys.items():
                    for name in names:  # the epoch aggregate wins over a step value; the latest row wins
                        v = _float(row.get(name))
                        if not math.isnan(v):
                            values[col] = v
                            break
    if not by_epoch:
        return None
    epochs = sorted(by_epoch)
    history: dict[str, list[float]] = {"epoch": [float(e) for e in epochs]}
    for col in HISTORY_COLUMNS:
        history[col] = [by_epoch[e][col] for e in epochs]
    return history


def training_curves_figure(history: dict[str, list[float]], path: str | Path, title: str = "") -> Path:
    """Loss and accuracy per epoch (training and validation), side by side; write a PNG."""
    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    epochs = history["epoch"]
    for ax, (name, train_key, val_key) in zip(
        axes, (("loss", "loss", "val_loss"), ("accuracy", "acc", "val_acc")), strict=True
    ):
        for key, label in ((train_key, "training"), (val_key, "validation")):
            values = history.get(key, [])
            if any(not math.isnan(v) for v in values):
                ax.plot(epochs, values, marker="o", label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    if title:
        fig.suptitle(title)
    return _save_figure(fig, Path(path))


def _thumbnail(path: str, size: int) -> Image.Image:
    try:
        img = open_rgb(path)
    except DataError:
        img = Image.new("RGB", (size, size), (230, 230, 230))
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img


def contact_sheet(
    items: Sequence[Prediction], path: str | Path, thumb_size: int = 160, columns: int = 6
) -> Path:
    """All ``items`` as one PNG grid, each thumbnail captioned ``true -> predicted (confidence)``."""
    caption_h, pad = 30, 6
    if not items:
        img = Image.new("RGB", (420, 60), "white")
        ImageDraw.Draw(img).text((12, 22), "No misclassified plots.", fill="black")
        return _save_image(img, Path(path))
    columns = max(1, min(columns, len(items)))
    rows = math.ceil(len(items) / columns)
    cell_w, cell_h = thumb_size + pad, thumb_size + caption_h + pad
    sheet = Image.new("RGB", (columns * cell_w + pad, rows * cell_h + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for n, item in enumerate(items):
        x, y = pad + (n % columns) * cell_w, pad + (n // columns) * cell_h
        thumb = _thumbnail(item.name, thumb_size)
        sheet.paste(thumb, (x + (thumb_size - thumb.width) // 2, y + (thumb_size - thumb.height) // 2))
        draw.text((x, y + thumb_size + 2), f"true: {item.true}", fill="black")
        draw.text((x, y + thumb_size + 15), f"pred: {item.label} ({item.confidence:.0%})", fill=(170, 0, 0))
    return _save_image(sheet, Path(path))


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:60] or "image"


def misclassified_gallery(
    items: Sequence[Prediction],
    out_dir: str | Path,
    total: int | None = None,
    thumb_size: int = 160,
    title: str = "Prediction plots",
) -> dict[str, Path]:
    """``out_dir/misclassified.html`` with thumbnails copied to ``out_dir/misclassified/``, plus the contact sheet
    ``out_dir/misclassified.png``. The page links only to files inside ``out_dir``. ``total``: how many images
    were evaluated (shown in the heading).
    """
    out_dir = Path(out_dir)
    thumbs_dir = out_dir / "misclassified"
    thumbs_dir.mkdir(parents=True, exist_ok=True)
    cards = []
    for n, item in enumerate(items, start=1):
        thumb = thumbs_dir / f"{n:04d}_{_safe_name(Path(item.name).stem)}.png"
        _save_image(_thumbnail(item.name, thumb_size), thumb)
        cards.append(
            '<figure><img src="{src}" alt="{alt}" width="{w}"><figcaption>'
            "<b>{pred}</b> ({conf:.1%})<br>true: {true}<br><small>{path}</small></figcaption></figure>".format(
                src=html.escape(f"misclassified/{thumb.name}"),
                alt=html.escape(f"{item.true} predicted as {item.label}"),
                w=thumb_size,
                pred=html.escape(item.label),
                conf=item.confidence,
                true=html.escape(item.true),
                path=html.escape(item.name),
            )
        )
    heading = f"{len(items)} misclassified" + (f" of {total} plots" if total is not None else "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
main {{ display: flex; flex-wrap: wrap; gap: 12px; }}
figure {{ margin: 0; width: {thumb_size + 10}px; font-size: 13px; }}
figure img {{ border: 1px solid #ccc; }}
small {{ color: #666; word-break: break-all; }}
</style></head>
<body><h1>{html.escape(title)}</h1><p>{html.escape(heading)}; the most confident mistakes first.
Caption: predicted class (its probability), true class, source file.</p>
<main>
{chr(10).join(cards) if cards else "<p>None: every plot was classified correctly.</p>"}
</main></body></html>
"""
    page_path = out_dir / "misclassified.html"
    write_text(page_path, page)
    sheet = contact_sheet(items, out_dir / "misclassified.png", thumb_size=min(thumb_size, 128))
    return {"html": page_path, "contact_sheet": sheet, "thumbnails": thumbs_dir}
