"""Each class's defining property, measured with the classic tests on a small sample (docs/generator.md).

Seed 3 is neither the seed the strength ranges were tuned on (7) nor the reported table's (20261126).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import statsmodels.api as sm

from plotlstm.synth.diagnostics import Diagnostics, bonferroni_outlier_p, diagnose
from plotlstm.synth.simulate import simulate_plot

SEED = 3
SAMPLE = 40
ALPHA = 0.01


@functools.cache
def _diagnoses(cls: str, with_interaction: bool) -> tuple[Diagnostics, ...]:
    return tuple(diagnose(simulate_plot(SEED, cls, i)[0], with_interaction) for i in range(SAMPLE))


def rejection_rate(cls: str, test: str, with_interaction: bool = False) -> float:
    """Share of data sets 0 .. SAMPLE-1 of ``cls`` (seed 3) in which ``test`` rejects at 1 %."""
    return float(np.mean([getattr(d, test) < ALPHA for d in _diagnoses(cls, with_interaction)]))


@pytest.mark.parametrize(
    ("cls", "test"),
    [
        ("heteroskedastic", "breusch_pagan_fitted"),  # the variance follows the fitted values
        ("nonlinear", "reset"),  # powers of the fitted values explain the residuals
        ("outlier", "bonferroni"),  # the largest studentised residual is beyond chance
        ("biased", "jarque_bera"),  # the residuals are not normal
    ],
)
def test_defining_test_rejects_in_at_least_95_percent(cls: str, test: str) -> None:
    assert rejection_rate(cls, test) >= 0.95


def test_ceiling_caps_eight_percent_of_the_responses() -> None:
    """What defines ceiling is the cap itself: the top 8 % of y sit exactly on it. No classic test catches
    it in 95 % of the data sets (small n); Jarque-Bera, which sees the cut upper tail, does in most."""
    assert rejection_rate("ceiling", "jarque_bera") >= 0.8
    for i in range(10):
        s, _ = simulate_plot(SEED, "ceiling", i)
        assert np.mean(s.y == s.cap) >= 0.08 - 1 / s.n


def test_none_is_clean_only_once_its_interaction_is_fitted() -> None:
    """none's noise is normal and constant, but its model leaves B and X*B out: fitting them, no test rejects
    more than chance allows; the generator's own fit (main effects only) is rejected by Breusch-Pagan and RESET
    far more often than 1 %."""
    for test in ("jarque_bera", "breusch_pagan", "breusch_pagan_fitted", "reset", "bonferroni"):
        assert rejection_rate("none", test, with_interaction=True) <= 0.1, test  # 40 sets: at most 4
    assert rejection_rate("none", "breusch_pagan") >= 0.25


def test_closed_form_bonferroni_equals_statsmodels_outlier_test() -> None:
    for cls, index in (("outlier", 0), ("none", 1), ("heteroskedastic", 2)):
        s, _ = simulate_plot(SEED, cls, index)
        rows = s.n
        if rows > 400:  # statsmodels refits n times: keep it small
            keep = np.random.default_rng(0).choice(rows, 400, replace=False)
            result = sm.OLS(s.y[keep], s.design[keep]).fit()
        else:
            result = sm.OLS(s.y, s.design).fit()
        expected = float(np.asarray(result.outlier_test(method="bonferroni"))[:, 2].min())
        assert bonferroni_outlier_p(result) == pytest.approx(expected, rel=1e-9, abs=1e-12)
