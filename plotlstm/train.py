"""``python -m plotlstm.train``: fit PlotLitModule on a plot data set, then test the best checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig

from plotlstm.atomic import write_json
from plotlstm.cli import command
from plotlstm.errors import SettingsMismatchError
from plotlstm.inference.classifier import BUNDLED, is_bundled_name
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.init_weights import load_init_weights

log = logging.getLogger(__name__)


def ensure_data(cfg: DictConfig) -> None:
    """Generate the synth preset's data when training reads from its root and it is not complete. A complete
    data set there that was drawn with other settings is trained on as it is, with a warning naming the setting
    (a set of another size or style is what some users want; a stale one is what others did not notice)."""
    root = Path(cfg.data.root)
    if not cfg.get("generate_missing_data") or root != Path(cfg.synth.root):
        return
    from plotlstm.synth.generator import check_settings, generate

    if (root / "manifest.csv").exists():
        try:
            check_settings(**cfg.synth)
        except SettingsMismatchError as err:
            log.warning(
                "synth.%s: %s holds a data set drawn with %s=%r, not %r; training on it as it is (remove it, or "
                "give another synth.root, to draw the preset's)",
                err.field,
                root,
                err.field,
                err.drawn,
                err.asked,
            )
        return
    log.info("generating the synth data set into %s", root)
    generate(**cfg.synth, workers=cfg.get("workers", 0), progress=True)


def bundled_or_path(value: str) -> str | Path:
    """``init_weights`` may name a bundled model (``general``, ``designs``) instead of giving its path."""
    return BUNDLED[value] if is_bundled_name(value) else value


def train(cfg: DictConfig) -> dict[str, Any]:
    """Fit and test as ``cfg`` says; return the metrics (also written to ``metrics.json`` in the run folder)."""
    L.seed_everything(cfg.seed, workers=True)
    # both read (and checked) once, before any data is drawn
    init = (
        Checkpoint.open(bundled_or_path(cfg.init_weights), "init_weights")
        if cfg.get("init_weights")
        else None
    )
    resume = Checkpoint.open(cfg.ckpt_path) if cfg.get("ckpt_path") else None
    ensure_data(cfg)
    datamodule = instantiate(cfg.data)
    classes = datamodule.check()
    if resume:
        resume.require_classes(classes, str(cfg.data.root))
    model = instantiate(cfg.model, num_classes=len(classes), class_names=classes)
    if init:
        load_init_weights(model, init, classes, str(cfg.data.root))
    if cfg.get("compile"):
        model = torch.compile(model)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c]
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)

    trainer.fit(model, datamodule=datamodule, ckpt_path=str(resume.path) if resume else None)
    metrics = {k: v.item() for k, v in trainer.callback_metrics.items()}
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if cfg.get("test"):
        trainer.test(model, datamodule=datamodule, ckpt_path=best or None, weights_only=True)
        metrics.update({k: v.item() for k, v in trainer.callback_metrics.items() if k.startswith("test/")})
    out = Path(trainer.default_root_dir)
    result = {
        "classes": classes,
        "init_weights": str(init.path) if init else None,
        "best_checkpoint": best,
        "epochs": trainer.current_epoch,
        "metrics": metrics,
    }
    if trainer.is_global_zero:
        write_json(out / "metrics.json", result)
        log.info("best checkpoint: %s", best or "(none saved)")
        log.info("logs: %s (epoch-log.csv, csv/, tensorboard/)", out)
        log.info("metrics: %s", out / "metrics.json")
        if "test/acc" in metrics:
            log.info("test accuracy %.4f, test loss %.4f", metrics["test/acc"], metrics["test/loss"])
    return result


@command("train")
def main(cfg: DictConfig) -> float | None:
    result = train(cfg)
    return result["metrics"].get(cfg.get("optimized_metric"))


if __name__ == "__main__":
    main()
