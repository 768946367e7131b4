"""No GPU waits in training steps: the host reads device values only where the loggers do, and at epoch ends.

Checked on a CPU by recording the ops that synchronise on a GPU (``host_syncs``), with the whole training config of
``seed_four_class_fast``: its callbacks, progress bar, loggers and device cache.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest

from plotlstm.data.datamodule import PlotDataModule
from plotlstm.models.callbacks import SparseRichProgressBar
from plotlstm.models.module import PlotLitModule
from plotlstm.train import train
from tests.helpers.host_syncs import HostReads

LOG_EVERY, EPOCHS, STEPS_PER_EPOCH = 5, 2, 16  # tiny_root: 16 training plots, batch 1


def fit_recording(train_cfg, root: Path, *overrides: str) -> HostReads:
    cfg = train_cfg(
        root,
        "experiment=seed_four_class_fast",
        "trainer=default",
        "trainer.precision=32-true",
        "data.batch_size=1",
        "data.image_size=32",
        "data.cache=device",
        f"trainer.max_epochs={EPOCHS}",
        f"trainer.log_every_n_steps={LOG_EVERY}",
        "callbacks.early_stopping.patience=10",
        "test=false",
        "+callbacks.step_marks._target_=tests.helpers.host_syncs.StepMarks",
        *overrides,
        progress_bar=True,
    )
    with HostReads() as record:
        train(cfg)
    return record


def test_training_steps_read_the_device_only_with_the_loggers(tiny_root: Path, train_cfg) -> None:
    record = fit_recording(train_cfg, tiny_root)
    per_step = record.per_step()
    assert len(per_step) == EPOCHS * STEPS_PER_EPOCH
    expected = {
        (epoch, batch)
        for epoch in range(EPOCHS)
        for batch in range(STEPS_PER_EPOCH)
        if (epoch * STEPS_PER_EPOCH + batch + 1) % LOG_EVERY == 0 or batch == STEPS_PER_EPOCH - 1
    }
    reading = {step for step, reads in per_step.items() if reads}
    stray = {step: [name for name, _ in per_step[step]] for step in reading - expected}
    assert not stray, f"host reads outside logging steps: {stray}\n{per_step[min(stray)][0][1]}"
    # the recorder sees the reads that do happen: the loggers', the NaN check's, the progress bar's
    assert reading == expected


def test_a_bar_reading_every_step_is_caught(tiny_root: Path, train_cfg) -> None:
    """The negative control: the same check fails when the progress bar reads the loss after every step."""
    record = fit_recording(train_cfg, tiny_root, "callbacks.rich_progress_bar.read_every=1")
    assert all(record.per_step().values())


def test_progress_bar_shows_the_step_loss(tiny_root: Path) -> None:
    bar = SparseRichProgressBar(read_every=3)
    dm = PlotDataModule(tiny_root, batch_size=2, image_size=32)
    model = PlotLitModule(len(dm.check()), image_size=32)
    trainer = L.Trainer(
        max_steps=4, limit_val_batches=0, logger=False, enable_checkpointing=False, callbacks=[bar]
    )
    trainer.fit(model, datamodule=dm)
    shown = bar.get_metrics(trainer, model)
    assert isinstance(shown["train/loss_step"], float)
    # not prog_bar: Lightning would read it after each step
    assert "train/loss_step" not in trainer.progress_bar_metrics
    with pytest.raises(ValueError, match="read_every"):
        SparseRichProgressBar(read_every=-1)
