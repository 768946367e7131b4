"""benchmarks/verdict_threshold.py: the threshold chosen from tuning rows read with the rule off."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from verdict_threshold import choose, label_at, rates  # noqa: E402


def _row(n: int, truth: str, image: str, spoiled: float) -> dict:
    return {"n": n, "truth": truth, "image": image, "spoiled": spoiled}


def _rows() -> list[dict]:
    rows = []
    for n in (200, 1000):
        # 20 correct fits: 4 flagged with middling probabilities, one sure
        rows += [_row(n, "none", "none", 0.1)] * 15
        rows += [_row(n, "none", "nonlinear", s) for s in (0.56, 0.61, 0.66, 0.71)] + [
            _row(n, "none", "ceiling", 0.95)
        ]
        # 100 violations: 96 named right, sure; 2 right at 0.62; 2 wrong
        rows += [_row(n, "outlier", "outlier", 0.97)] * 96
        rows += [_row(n, "biased", "biased", 0.62)] * 2 + [_row(n, "biased", "none", 0.3)] * 2
    return rows


def test_label_at_turns_weak_violations_into_none() -> None:
    assert label_at(_row(200, "none", "nonlinear", 0.6), 0.65) == "none"
    assert label_at(_row(200, "none", "nonlinear", 0.6), 0.55) == "nonlinear"
    assert label_at(_row(200, "none", "unrecognized", 0.2), 0.9) == "unrecognized"


def test_rates() -> None:
    assert rates(_rows(), 0.0, 200) == pytest.approx((25.0, 98.0))
    assert rates(_rows(), 0.65, 200) == pytest.approx((15.0, 96.0))


@pytest.mark.parametrize(("budget", "chosen"), [(0.0, 0.6), (1.9, 0.6), (2.0, 0.9), (5.0, 0.9)])
def test_choose_the_largest_threshold_within_the_recall_budget(budget: float, chosen: float) -> None:
    assert choose(_rows(), budget) == chosen


def test_choose_changes_nothing_when_every_threshold_costs_too_much() -> None:
    # 0.5 changes no label: a violation that is the most probable class has 1 - P(none) > 0.5
    rows = [_row(200, "biased", "biased", 0.52), _row(200, "biased", "biased", 0.9)]
    assert choose(rows, 10.0) == 0.5
