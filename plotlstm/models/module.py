"""``PlotLitModule``: the LightningModule that trains a plot network (loss, metrics, optimiser, schedule)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.classification import MulticlassAccuracy

from plotlstm.data.images import scale
from plotlstm.errors import TrainingError
from plotlstm.models.checkpoint import upgrade
from plotlstm.models.networks import SEED_NET, build_network, plain, probabilities

SCHEDULERS = ("none", "onecycle", "cosine")
NAN_CHECK_EVERY = 25  # steps, when the trainer does not log (log_every_n_steps=0)
STAGES = ("train", "val", "test")


class PlotLitModule(L.LightningModule):
    """Trains ``net`` (a plain ``nn.Module`` from :mod:`plotlstm.models.networks`, the seed's LSTM by default) on
    (B, 3, S, S) images, uint8 or floats in [0, 1]. Two classes get one logit and BCE; K > 2 get K logits and
    cross-entropy. ``image_size`` and ``interpolation`` record how images were prepared, so that inference does
    the same.
    """

    def __init__(
        self,
        num_classes: int,
        class_names: Sequence[str] | None = None,
        net: Mapping[str, Any] | None = None,
        image_size: int = 256,
        interpolation: str = "nearest",
        lr: float = 1e-4,
        betas: Sequence[float] = (0.9, 0.999),
        weight_decay: float = 0.0,
        scheduler: str = "none",
    ) -> None:
        super().__init__()
        if scheduler not in SCHEDULERS:
            raise ValueError(f"model.scheduler: unknown value {scheduler!r}; use one of {list(SCHEDULERS)}")
        if num_classes < 2:
            raise ValueError(f"model.num_classes: need at least 2 classes, got {num_classes}")
        class_names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
        if len(class_names) != num_classes:
            raise ValueError(f"model.class_names: {len(class_names)} names for {num_classes} classes")
        net = SEED_NET | plain(net or {})
        self.save_hyperparameters(
            {
                "num_classes": num_classes,
                "class_names": class_names,
                "net": net,
                "image_size": image_size,
                "interpolation": interpolation,  # how images were resized in training: predict does the same
                "lr": lr,
                "betas": [float(b) for b in betas],
                "weight_decay": weight_decay,
                "scheduler": scheduler,
            }
        )
        self.class_names = class_names
        self.net = build_network(num_classes=num_classes, image_size=image_size, **net)
        self._nonfinite: torch.Tensor | None = None
        # Per-class accuracy for val and test only: on train its CUDA bincount would stall the GPU every step.
        self.metrics = nn.ModuleDict(
            {
                f"{stage}_acc": MulticlassAccuracy(num_classes, average="micro", validate_args=False)
                for stage in STAGES
            }
            | {
                f"{stage}_class_acc": MulticlassAccuracy(num_classes, average="none", validate_args=False)
                for stage in ("val", "test")
            }
        )

    @property
    def binary(self) -> bool:
        return self.hparams.num_classes == 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: (B,) for two classes, (B, K) otherwise. ``x``: float in [0, 1], or uint8 (scaled here)."""
        return self.net(scale(x))

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, K) class probabilities from :meth:`forward`'s logits."""
        return probabilities(logits)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Resume from checkpoints of the layout before ``net`` (keys ``lstm.*`` become ``net.lstm.*``)."""
        upgrade(checkpoint)

    def loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.binary:
            return nn.functional.binary_cross_entropy_with_logits(logits.float(), y.float())
        return nn.functional.cross_entropy(logits.float(), y)

    def _step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = self.loss(logits, y)
        preds = (logits > 0).long() if self.binary else logits.argmax(1)
        acc = self.metrics[f"{stage}_acc"]
        acc.update(preds, y)
        if stage != "train":
            self.metrics[f"{stage}_class_acc"].update(preds, y)
        # Not prog_bar on training steps: Lightning turns prog_bar values into Python numbers after every batch,
        # a GPU sync per step (Lightning issue 21232). SparseRichProgressBar shows train/loss_step every few steps.
        training = stage == "train"
        self.log(
            f"{stage}/loss", loss, on_step=training, on_epoch=True, prog_bar=not training, batch_size=len(y)
        )
        self.log(f"{stage}/acc", acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y))
        return loss

    def _log_class_acc(self, stage: str) -> None:
        metric = self.metrics[f"{stage}_class_acc"]
        if metric.update_count:
            for name, value in zip(self.class_names, metric.compute(), strict=True):
                self.log(f"{stage}/acc_{name}", value)
        metric.reset()

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._step(batch, "train")
        # Checked on the device and read back in the steps where the loggers read their values anyway (a GPU sync),
        # so the GPU never waits for it alone.
        bad = ~torch.isfinite(loss.detach())
        self._nonfinite = bad if self._nonfinite is None else self._nonfinite | bad
        if (self.global_step + 1) % (self.trainer.log_every_n_steps or NAN_CHECK_EVERY) == 0:
            self._check_finite()
        return loss

    def _check_finite(self) -> None:
        if self._nonfinite is not None and bool(self._nonfinite):
            raise TrainingError(
                f"the training loss became NaN or infinite at epoch {self.current_epoch}, by step "
                f"{self.global_step}; lower model.lr or use trainer.precision=32-true"
            )
        self._nonfinite = None

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def on_train_epoch_end(self) -> None:
        self._check_finite()

    def on_validation_epoch_end(self) -> None:
        self._log_class_acc("val")

    def on_test_epoch_end(self) -> None:
        self._log_class_acc("test")

    def configure_optimizers(self) -> Any:
        """Adam as the seed; ``scheduler``: ``none`` (the seed), ``onecycle`` or ``cosine`` over the whole fit."""
        hp = self.hparams
        optimizer = torch.optim.Adam(
            self.parameters(), lr=hp.lr, betas=tuple(hp.betas), weight_decay=hp.weight_decay
        )
        scheduler = hp.get("scheduler", "none")
        if scheduler == "none":
            return optimizer
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, self._lr_factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def _lr_factor(self, step: int) -> float:
        """The lr multiplier at ``step``, read against the fit's current length, so a resumed run with more epochs
        keeps a valid schedule. ``onecycle`` follows ``torch.optim.lr_scheduler.OneCycleLR`` (cosine up from lr/25
        over 15% of the steps, then cosine down to lr/250,000), which cannot be resumed with another length."""
        total = max(2, int(self.trainer.estimated_stepping_batches))
        if self.hparams.scheduler == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(step / total, 1.0)))
        start, peak, end, warm_end = 1 / 25, 1.0, 1 / 25 / 1e4, max(1.0, 0.15 * total - 1)
        if step <= warm_end:
            a, b, frac = start, peak, step / warm_end
        else:
            a, b, frac = peak, end, min((step - warm_end) / max(1.0, total - 1 - warm_end), 1.0)
        return b + (a - b) / 2 * (math.cos(math.pi * frac) + 1)
