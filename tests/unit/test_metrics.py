"""``classification_report`` against values worked out by hand and against a plain-Python reference."""

from __future__ import annotations

import json
import math

import pytest
import torch

from plotlstm.inference.metrics import classification_report, log_loss, paired_comparison

CLASSES = ["a", "b", "c"]
# 6 plots, 2 per class; predictions (arg-max): a, b, b, b, c, a -> plots 1 (a as b) and 5 (c as a) are wrong
PROBS = torch.tensor(
    [
        [0.7, 0.2, 0.1],
        [0.3, 0.6, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.8, 0.1],
        [0.1, 0.3, 0.6],
        [0.5, 0.2, 0.3],
    ]
)
TARGETS = torch.tensor([0, 0, 1, 1, 2, 2])


def test_hand_computed_example() -> None:
    r = classification_report(PROBS, TARGETS, CLASSES)
    assert r["n"] == 6 and r["classes"] == CLASSES
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    # precision = correct / predicted as the class; recall = correct / support
    expected = {
        "a": (1 / 2, 1 / 2, 1 / 2),
        "b": (2 / 3, 2 / 2, 2 * (2 / 3) / (2 / 3 + 1)),
        "c": (1 / 1, 1 / 2, 2 * 0.5 / 1.5),
    }
    for name, (p, rec, f1) in expected.items():
        m = r["per_class"][name]
        assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((p, rec, f1), abs=1e-6), name
        assert m["support"] == 2
    assert [r["per_class"][c]["predicted"] for c in CLASSES] == [2, 3, 1]
    # one-vs-rest AUC by counting (positive, negative) pairs ranked right (ties count 1/2):
    # a: positives .7, .3 vs negatives .2 .1 .1 .5 -> 4 + 3 = 7 of 8; b: .5, .8 vs .2 .6 .3 .2 -> 3 + 4 = 7 of 8;
    # c: .6, .3 vs .1 .1 .3 .1 -> 4 + 3.5 = 7.5 of 8
    aucs = [r["per_class"][c]["auc"] for c in CLASSES]
    assert aucs == pytest.approx([7 / 8, 7 / 8, 15 / 16], abs=1e-6)
    assert r["macro"]["precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3, abs=1e-6)
    assert r["macro"]["recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3, abs=1e-6)
    assert r["macro"]["f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3, abs=1e-6)
    assert r["macro"]["auc"] == pytest.approx((7 / 8 + 7 / 8 + 15 / 16) / 3, abs=1e-6)
    loss = -sum(math.log(v) for v in (0.7, 0.3, 0.5, 0.8, 0.6, 0.3)) / 6  # p of the true class
    assert r["loss"] == pytest.approx(loss, rel=1e-6)
    assert log_loss(PROBS, TARGETS) == pytest.approx(loss, rel=1e-6)
    assert classification_report(PROBS, TARGETS, CLASSES, loss=0.25)["loss"] == 0.25


def test_calibration_error_is_the_gap_between_confidence_and_share_right() -> None:
    """4 plots at top probability 0.9, all right (gap 0.1), and 4 at 0.65, half right (gap 0.15): 0.125."""
    sure, unsure = [0.9, 0.05, 0.05], [0.65, 0.25, 0.1]
    probs = torch.tensor([sure] * 4 + [unsure] * 4)
    targets = torch.tensor([0] * 4 + [0, 0, 1, 2])
    r = classification_report(probs, targets, CLASSES)
    assert r["calibration_error"] == pytest.approx(0.5 * 0.1 + 0.5 * 0.15, abs=1e-6)
    honest = classification_report(torch.tensor([[1.0, 0.0, 0.0]] * 3), torch.tensor([0, 0, 0]), CLASSES)
    assert honest["calibration_error"] == pytest.approx(0.0, abs=1e-6)


def test_perfect_and_worst_predictions() -> None:
    targets = torch.tensor([0, 1, 1, 0])
    right = torch.nn.functional.one_hot(targets, 2).float()
    r = classification_report(right, targets, ["x", "y"])
    assert r["accuracy"] == 1.0 and r["macro"]["f1"] == 1.0 and r["macro"]["auc"] == 1.0
    r = classification_report(1 - right, targets, ["x", "y"])
    assert r["accuracy"] == 0.0 and r["macro"]["f1"] == 0.0 and r["macro"]["auc"] == 0.0
    assert r["confusion_matrix"] == [[0, 2], [2, 0]]


def test_binary_as_two_class_multiclass() -> None:
    """A binary model's [1 - p, p]: precision etc. of the positive class as in the usual binary definitions."""
    p = torch.tensor([0.9, 0.8, 0.3, 0.6, 0.2, 0.1])
    targets = torch.tensor([1, 1, 1, 0, 0, 0])
    r = classification_report(torch.stack([1 - p, p], 1), targets, ["none", "ceiling"])
    # predicted positive: 0.9, 0.8, 0.6 -> TP 2, FP 1, FN 1
    pos = r["per_class"]["ceiling"]
    assert (pos["precision"], pos["recall"]) == pytest.approx((2 / 3, 2 / 3))
    # positives .9 .8 .3 vs negatives .6 .2 .1: 3 + 3 + 2 = 8 of 9 pairs; the negative class mirrors it
    assert pos["auc"] == pytest.approx(8 / 9) and r["per_class"]["none"]["auc"] == pytest.approx(8 / 9)
    bce = torch.nn.functional.binary_cross_entropy(p, targets.float()).item()
    assert r["loss"] == pytest.approx(bce, rel=1e-5)


def test_class_without_samples_has_no_auc_and_leaves_the_macro_average() -> None:
    probs = torch.tensor([[0.8, 0.1, 0.1], [0.4, 0.5, 0.1], [0.2, 0.7, 0.1]])
    targets = torch.tensor([0, 0, 1])  # nothing of class c, nothing predicted as c
    r = classification_report(probs, targets, CLASSES)
    assert r["per_class"]["c"]["auc"] is None and r["per_class"]["c"]["support"] == 0
    assert r["per_class"]["a"]["auc"] == pytest.approx(1.0)  # .8 .4 vs .2
    # a: P 1, R 1/2; b: P 1/2, R 1 -> F1 2/3 each; c is left out of the macro average
    assert r["macro"]["f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert r["macro"]["auc"] == pytest.approx((1.0 + 1.0) / 2)
    json.dumps(r, allow_nan=False)  # no NaN reaches metrics.json


def _reference(probs: list[list[float]], targets: list[int], k: int) -> dict:
    """Plain-Python precision / recall / F1 / AUC / confusion matrix."""
    preds = [max(range(k), key=row.__getitem__) for row in probs]
    cm = [
        [sum(1 for t, p in zip(targets, preds, strict=True) if t == i and p == j) for j in range(k)]
        for i in range(k)
    ]
    out = {
        "cm": cm,
        "acc": sum(cm[i][i] for i in range(k)) / len(targets),
        "p": [],
        "r": [],
        "f1": [],
        "auc": [],
    }
    for c in range(k):
        tp, pred, sup = cm[c][c], sum(cm[i][c] for i in range(k)), sum(cm[c])
        p, r = (tp / pred if pred else 0.0), (tp / sup if sup else 0.0)
        out["p"].append(p)
        out["r"].append(r)
        out["f1"].append(2 * p * r / (p + r) if p + r else 0.0)
        pos = [row[c] for row, t in zip(probs, targets, strict=True) if t == c]
        neg = [row[c] for row, t in zip(probs, targets, strict=True) if t != c]
        pairs = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
        out["auc"].append(pairs / (len(pos) * len(neg)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_a_plain_python_reference(seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    k, n = 4, 40
    probs = torch.softmax(torch.randn(n, k, generator=g) * 2, 1)
    targets = torch.cat([torch.arange(k), torch.randint(0, k, (n - k,), generator=g)])
    r = classification_report(probs, targets, list("wxyz"))
    ref = _reference(probs.tolist(), targets.tolist(), k)
    assert r["confusion_matrix"] == ref["cm"]
    assert r["accuracy"] == pytest.approx(ref["acc"])
    for key, name in (("precision", "p"), ("recall", "r"), ("f1", "f1"), ("auc", "auc")):
        got = [r["per_class"][c][key] for c in "wxyz"]
        assert got == pytest.approx(ref[name], abs=1e-5), key
    assert r["macro"]["f1"] == pytest.approx(sum(ref["f1"]) / k, abs=1e-5)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="probs"):
        classification_report(PROBS, TARGETS, ["a", "b"])
    with pytest.raises(ValueError, match="targets"):
        classification_report(PROBS, TARGETS[:3], CLASSES)
    with pytest.raises(ValueError, match="no samples"):
        classification_report(PROBS[:0], TARGETS[:0], CLASSES)


def test_paired_comparison_counts_discordant_items_and_tests_them() -> None:
    a = [True] * 20 + [False] * 10 + [True, False]
    b = [True] * 20 + [True] * 10 + [False, False]
    only_b, only_a, p = paired_comparison(a, b)
    assert (only_b, only_a) == (10, 1)
    assert p == pytest.approx(
        2 * sum(math.comb(11, k) for k in range(2)) / 2**11
    )  # exact binomial, two-sided
    assert paired_comparison(a, a)[2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="paired_comparison: 32 and 3 items"):
        paired_comparison(a, b[:3])
