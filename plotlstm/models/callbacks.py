"""Callbacks beyond Lightning's own."""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint, RichProgressBar

from plotlstm.atomic import atomic_path
from plotlstm.models.module import PlotLitModule


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

    def on_fit_start(self, trainer: L.Trainer, pl_module: PlotLitModule) -> None:
        self.start = time.perf_counter()

    def path(self, trainer: L.Trainer) -> Path:
        return self.filename or Path(trainer.default_root_dir) / "epoch-log.csv"

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: PlotLitModule) -> None:
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


class SparseRichProgressBar(RichProgressBar):
    """Lightning's Rich progress bar, also showing ``step_metrics`` (logged each training step without
    ``prog_bar``), read every ``read_every`` batches (0: never) and at the end of each epoch.

    Reading a value that lives on a GPU (``.item()``) makes the host wait for the GPU, which then idles while the next
    step is launched. Lightning reads every ``prog_bar`` value after every batch, so PlotLitModule logs its step loss
    without ``prog_bar`` and this bar reads it only now and then.
    """

    def __init__(
        self, step_metrics: Sequence[str] = ("train/loss_step",), read_every: int = 10, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if read_every < 0:
            raise ValueError(f"read_every: must be 0 (at epoch ends only) or more, got {read_every}")
        self.step_metrics, self.read_every = list(step_metrics), read_every
        self._values: dict[str, float] = {}
        self._read = False

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # global_step counts this step: the same steps as the loggers' when read_every is log_every_n_steps
        self._read = self.read_every > 0 and trainer.global_step % self.read_every == 0
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._read = True
        super().on_train_epoch_end(trainer, pl_module)

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        if self._read:
            metrics = trainer.callback_metrics
            self._values = {k: metrics[k].item() for k in self.step_metrics if k in metrics}
            self._read = False
        return {**super().get_metrics(trainer, pl_module), **self._values}


class ResumableCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` that keeps its best score when a run resumes into a new folder.

    Lightning restores ``best_model_score`` and the top-k only when the checkpoint folder is unchanged (it warns
    "The dirpath has changed ..."), so a run resumed into a new run folder forgot the epochs before it: its "best
    checkpoint" and its test covered the resumed epochs only. Here the old top-k checkpoint files are copied into
    the new folder and the scores restored, so the new run's best is the best of all epochs, in its own folder.
    """

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        old_dir = state_dict.get("dirpath")
        if not old_dir or self.dirpath is None or Path(old_dir) == Path(self.dirpath):
            super().load_state_dict(state_dict)
            return
        if state_dict.get("monitor") != self.monitor:  # another metric: the old scores do not compare
            super().load_state_dict(state_dict)
            return
        moved: dict[str, Any] = {}
        for path, score in (state_dict.get("best_k_models") or {}).items():
            copied = _copy_into(path, self.dirpath)
            if copied:
                moved[path] = copied
                self.best_k_models[copied] = score
        best = state_dict.get("best_model_path", "")
        if best in moved:
            self.best_model_path = moved[best]
            self.best_model_score = state_dict.get("best_model_score")
        else:
            self.best_model_path = best
        kth = state_dict.get("kth_best_model_path", "")
        if kth in moved:
            self.kth_best_model_path = moved[kth]
            self.kth_value = state_dict.get("kth_value", self.kth_value)


def _copy_into(path: str, folder: str) -> str | None:
    """Copy a checkpoint file into ``folder`` (atomically; kept if already there); its new path, or None if the
    file is gone."""
    source = Path(path)
    if not source.is_file():
        return None
    target = Path(folder) / source.name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    return str(target)
