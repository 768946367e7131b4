"""benchmarks/designs.py's paired comparison of two models on the same fits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from designs import paired  # noqa: E402


def _rows(model: str, images: list[str], truths: list[str]) -> list[dict]:
    return [
        {"model": model, "design": "uniform", "n": 200, "truth": t, "image": i}
        for i, t in zip(images, truths, strict=True)
    ]


def test_paired_counts_each_models_wins_on_the_same_fits() -> None:
    truths = ["none"] * 6 + ["outlier"] * 4
    a = ["none", "none", "nonlinear", "nonlinear", "none", "none", "outlier", "biased", "outlier", "none"]
    b = ["none", "biased", "none", "none", "none", "none", "outlier", "outlier", "none", "none"]
    result = paired(_rows("a", a, truths) + _rows("b", b, truths), "a", "b")
    unflagged = result["correct_fits_unflagged"]
    assert (unflagged["only_other"], unflagged["only_first"], unflagged["fits"]) == (2, 1, 6)
    named = result["violations_named"]
    assert (named["only_other"], named["only_first"], named["fits"]) == (1, 1, 4)
    assert 0.0 < unflagged["p"] <= 1.0 and named["p"] == pytest.approx(1.0)


def test_a_model_against_itself_has_no_discordant_fits() -> None:
    truths = ["none", "biased", "ceiling"]
    rows = _rows("a", ["biased", "biased", "none"], truths) + _rows("b", ["biased", "biased", "none"], truths)
    for counts in paired(rows, "a", "b").values():
        assert counts["only_other"] == counts["only_first"] == 0 and counts["p"] == pytest.approx(1.0)


def test_rows_of_different_fits_are_refused() -> None:
    rows = _rows("a", ["none"], ["none"]) + _rows("b", ["none"], ["biased"])
    with pytest.raises(ValueError, match="not read on the same fits"):
        paired(rows, "a", "b")


def test_goal_misses_names_the_cells_under_the_goals() -> None:
    from designs import goal_misses

    rows = _rows("a", ["none"] * 19 + ["nonlinear"], ["none"] * 20)  # 5 %: not over
    rows += [{**r, "n": 1000} for r in _rows("a", ["none"] * 18 + ["ceiling"] * 2, ["none"] * 20)]  # 10 %
    rows += [{**r, "n": 50} for r in _rows("a", ["biased"] * 10, ["none"] * 10)]  # n 50: outside the goal
    rows += [{**r, "n": 1000} for r in _rows("a", ["outlier"] * 19 + ["none"], ["outlier"] * 20)]  # 95 %: met
    rows += [{**r, "n": 1000} for r in _rows("a", ["biased"] * 18 + ["none"] * 2, ["biased"] * 20)]  # 90 %
    rows += _rows("a", ["none"] * 10, ["ceiling"] * 10)  # n 200: recall's goal starts at 300
    misses = goal_misses(rows)
    assert [(m["n"], m["what"], round(m["pct"], 1), m["fits"]) for m in misses] == [
        (1000, "false alarms", 10.0, 20),
        (1000, "biased", 90.0, 20),
    ]
