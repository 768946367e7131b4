"""Callbacks beyond Lightning's own."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import lightning as L

from plotlstm.atomic import atomic_path
from plotlstm.model import PlotLSTM


class EpochLog(L.Callback):
    """One row per epoch with the seed's Keras ``CSVLogger`` columns, ``epoch;acc;loss;val_acc;val_loss``, and
    ``elapsed_s``, the seconds since this fit started (for time-to-accuracy curves).

    ``filename`` defaults to ``epoch-log.csv`` in the trainer's ``default_root_dir``. Appends (like the seed's ``append=True``), so a resumed run continues the same file; each write replaces the
    file atomically.
    """

    columns = ("epoch", "acc", "loss", "val_acc", "val_loss", "elapsed_s")

    def __init__(self, filename: str | Path | None = None, separator: str = ";") -> None:
        self.filename, self.separator = (Path(filename) if filename else None), separator
        self.start = time.perf_counter()

    def on_fit_start(self, trainer: L.Trainer, pl_module: PlotLSTM) -> None:
        self.start = time.perf_counter()

    def path(self, trainer: L.Trainer) -> Path:
        return self.filename or Path(trainer.default_root_dir) / "epoch-log.csv"

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: PlotLSTM) -> None:
        if not trainer.is_global_zero:
            return
        m = trainer.callback_metrics
        row = {"epoch": trainer.current_epoch, "elapsed_s": f"{time.perf_counter() - self.start:.1f}"}
        for col, key in (
            ("acc", "train/acc"),
            ("loss", "train/loss"),
            ("val_acc", "val/acc"),
            ("val_loss", "val/loss"),
        ):
            row[col] = f"{m[key].item():.6f}" if key in m else ""
        path = self.path(trainer)
        rows = list(csv.DictReader(path.open(), delimiter=self.separator)) if path.exists() else []
        rows = [r for r in rows if int(r["epoch"]) != row["epoch"]] + [row]
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, self.columns, delimiter=self.separator)
            writer.writeheader()
            writer.writerows(rows)
