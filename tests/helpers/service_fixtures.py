"""Helpers for the service tests: an untrained checkpoint on disk and the reference plots."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule

CLASSES = ["biased", "ceiling", "none", "outlier"]
REFERENCE = Path(os.environ.get("PLOTLSTM_REFERENCE_PLOTS", "/work/shared/reference/original-plots"))


def draw_plots(folder: Path) -> list[Path]:
    """Four 480x480 residual-vs-fitted-like scatter plots, for machines without the reference plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    paths = []
    for name in CLASSES:
        x = rng.uniform(0, 10, 100)
        y = (
            rng.normal(0, 1, 100)
            + {"biased": 0.1 * (x - 5) ** 2, "ceiling": 0.0, "none": 0.0, "outlier": 0.0}[name]
        )
        if name == "ceiling":
            y = np.minimum(y, 0.5)
        if name == "outlier":
            y[0] = 8
        fig, ax = plt.subplots(figsize=(4.8, 4.8), dpi=100)
        ax.scatter(x, y, facecolors="none", edgecolors="black")
        ax.axhline(0, linestyle=":", color="grey")
        ax.set_xlabel("Fitted values")
        ax.set_ylabel("Residuals")
        ax.set_title("Residuals vs Fitted")
        path = folder / f"{name}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def reference_plots(folder: Path) -> list[Path]:
    """The reference plots (480x480 PNGs), else four drawn here into ``folder``."""
    found = sorted(REFERENCE.glob("*.png"))
    return found if len(found) >= 2 else draw_plots(folder)


def save_checkpoint(path: Path, image_size: int, seed: int = 0, classes: list[str] | None = None) -> Path:
    """An untrained PlotLitModule saved the way Lightning does (state_dict + hyper_parameters)."""
    torch.manual_seed(seed)
    classes = classes or CLASSES
    model = PlotLitModule(num_classes=len(classes), class_names=classes, image_size=image_size)
    Checkpoint.save(model, path)
    return path
