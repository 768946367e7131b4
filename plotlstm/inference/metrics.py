"""Classification metrics from predicted probabilities, computed with torchmetrics.

Binary checkpoints are treated as two-class multiclass ([1 - p, p] from ``PlotLitModule.probabilities``), so binary
and four-class models go through the same code.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_auroc,
    multiclass_calibration_error,
    multiclass_confusion_matrix,
    multiclass_f1_score,
    multiclass_precision,
    multiclass_recall,
)

CALIBRATION_BINS = 15


def paired_comparison(a_right: Sequence[bool], b_right: Sequence[bool]) -> tuple[int, int, float]:
    """Two models on the same items: how many only B got right, how many only A, and McNemar's exact p
    (statsmodels), the test of a difference the gates of issue 23 use."""
    from statsmodels.stats.contingency_tables import mcnemar

    a = torch.as_tensor(list(a_right), dtype=torch.bool)
    b = torch.as_tensor(list(b_right), dtype=torch.bool)
    if a.shape != b.shape:
        raise ValueError(f"paired_comparison: {len(a)} and {len(b)} items; a pair needs the same items")
    table = [[int((a & b).sum()), int((a & ~b).sum())], [int((~a & b).sum()), int((~a & ~b).sum())]]
    return table[1][0], table[0][1], float(mcnemar(table, exact=True).pvalue)


def _number(value: float) -> float | None:
    """A float for JSON: NaN (an undefined metric) becomes None."""
    value = float(value)
    return None if math.isnan(value) else value


def log_loss(probs: torch.Tensor, targets: torch.Tensor, eps: float = 1e-12) -> float:
    """Mean negative log probability of the true class (cross-entropy; BCE for [1 - p, p])."""
    p = probs.double().gather(1, targets.long().view(-1, 1)).clamp_min(eps)
    return float(-p.log().mean())


def classification_report(
    probs: torch.Tensor,
    targets: torch.Tensor,
    classes: Sequence[str],
    loss: float | None = None,
) -> dict[str, Any]:
    """Accuracy, per-class and macro precision / recall / F1 / one-vs-rest ROC AUC, the confusion matrix, and the
    expected calibration error of the top probability (15 equal bins, torchmetrics' L1 ECE: how far the stated
    confidence lies from the share right, on average over plots).

    ``probs``: (N, K) class probabilities; ``targets``: (N,) class indices; ``classes``: the K names. The predicted
    class is the arg-max (first on ties). ``loss`` defaults to :func:`log_loss`. Precision of a class that is never
    predicted is 0; a class's AUC is None when it has no positive or no negative sample. Macro averages follow
    torchmetrics: classes absent from both targets and predictions are left out (AUC: classes with an AUC).
    ``confusion_matrix[i][j]`` counts samples of true class i predicted as j.
    """
    probs, targets = probs.detach().float().cpu(), targets.detach().long().cpu()
    k = len(classes)
    if probs.ndim != 2 or probs.shape[1] != k:
        raise ValueError(f"probs: expected shape (N, {k}), got {tuple(probs.shape)}")
    if targets.shape != (probs.shape[0],):
        raise ValueError(f"targets: expected shape ({probs.shape[0]},), got {tuple(targets.shape)}")
    if len(targets) == 0:
        raise ValueError("classification_report: no samples")
    if k < 2:
        raise ValueError(f"classes: need at least 2, got {list(classes)}")
    args = {"num_classes": k, "validate_args": True}
    precision = multiclass_precision(probs, targets, average="none", **args)
    recall = multiclass_recall(probs, targets, average="none", **args)
    f1 = multiclass_f1_score(probs, targets, average="none", **args)
    support = torch.bincount(targets, minlength=k)
    negatives = len(targets) - support
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchmetrics warns about classes without positives; we report None
        auc = multiclass_auroc(probs, targets, average="none", thresholds=None, **args)
    auc = [float(a) if support[i] > 0 and negatives[i] > 0 else math.nan for i, a in enumerate(auc)]
    defined_auc = [a for a in auc if not math.isnan(a)]
    cm = multiclass_confusion_matrix(probs, targets, **args)
    per_class = {
        name: {
            "precision": _number(precision[i]),
            "recall": _number(recall[i]),
            "f1": _number(f1[i]),
            "auc": _number(auc[i]),
            "support": int(support[i]),
            "predicted": int(cm[:, i].sum()),
        }
        for i, name in enumerate(classes)
    }
    macro = {
        "precision": _number(multiclass_precision(probs, targets, average="macro", **args)),
        "recall": _number(multiclass_recall(probs, targets, average="macro", **args)),
        "f1": _number(multiclass_f1_score(probs, targets, average="macro", **args)),
        "auc": _number(sum(defined_auc) / len(defined_auc)) if defined_auc else None,
    }
    return {
        "n": len(targets),
        "classes": list(classes),
        "loss": float(loss) if loss is not None else log_loss(probs, targets),
        "accuracy": float(multiclass_accuracy(probs, targets, average="micro", **args)),
        "calibration_error": float(
            multiclass_calibration_error(probs, targets, n_bins=CALIBRATION_BINS, **args)
        ),
        "per_class": per_class,
        "macro": macro,
        "confusion_matrix": cm.tolist(),
    }
