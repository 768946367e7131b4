"""The simulation: reproducibility and each class's defining property."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import skew

from plotlstm.synth.simulate import CLASSES, class_code, plot_rng, simulate, simulate_plot

SEEDS = (0, 1, 2)


def test_same_seed_same_data_and_other_seeds_differ() -> None:
    a, _ = simulate_plot(0, "none", 5)
    b, _ = simulate_plot(0, "none", 5)
    assert np.array_equal(a.y, b.y) and np.array_equal(a.residuals, b.residuals)
    c, _ = simulate_plot(1, "none", 5)
    d, _ = simulate_plot(0, "none", 6)
    e, _ = simulate_plot(0, "biased", 5)
    for other in (c, d, e):
        assert other.n != a.n or not np.allclose(other.y, a.y)


def test_plot_depends_only_on_seed_class_index() -> None:
    """Simulating other plots first (another order) changes nothing."""
    first, _ = simulate_plot(3, "ceiling", 7)
    for i in range(3):
        simulate_plot(3, "outlier", i)
    again = simulate(CLASSES[class_code("ceiling")], plot_rng(3, "ceiling", 7))
    assert np.array_equal(first.fitted, again.fitted)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("seed", SEEDS)
def test_common_recipe(cls: str, seed: int) -> None:
    s, _ = simulate_plot(seed, cls, 0)
    assert 100 <= s.n <= 10_000
    assert 2 <= s.predictors <= 4 and 2 <= s.controls <= 4
    assert s.y.shape == s.fitted.shape == s.residuals.shape == (s.n,)
    assert s.y.min() == pytest.approx(1.0)  # shifted so the minimum is 1
    np.testing.assert_allclose(s.fitted + s.residuals, s.y)
    # OLS with an intercept: residuals sum to zero
    assert abs(s.residuals.mean()) < 1e-8 * max(1.0, np.abs(s.y).max())


@pytest.mark.parametrize("seed", SEEDS)
def test_ceiling_caps_the_response(seed: int) -> None:
    s, _ = simulate_plot(seed, "ceiling", 1)
    assert s.cap is not None
    assert s.y.max() == pytest.approx(s.cap)
    np.testing.assert_allclose(s.y, np.minimum(s.y_clean, s.cap))
    assert np.sum(s.y == s.cap) >= 0.08 * s.n - 1  # the top 8 % sit on the cap
    assert np.quantile(s.y_clean, 0.92) == pytest.approx(s.cap)


@pytest.mark.parametrize("seed", SEEDS)
def test_outliers_are_8_sd_up(seed: int) -> None:
    s, _ = simulate_plot(seed, "outlier", 1)
    assert s.outliers is not None and len(s.outliers) == 3
    jump = s.y - s.y_clean
    assert np.all(jump[s.outliers] >= 8 * s.s - 1e-9)
    others = np.setdiff1d(np.arange(s.n), s.outliers)
    np.testing.assert_allclose(jump[others], 0.0, atol=1e-9)
    # they stand out in the residuals too
    assert set(np.argsort(-s.residuals)[:3]) == set(s.outliers)


@pytest.mark.parametrize("seed", SEEDS)
def test_biased_residuals_are_right_skewed(seed: int) -> None:
    s, _ = simulate_plot(seed, "biased", 1)
    assert skew(s.residuals) > 1.0
    assert s.cap is None and s.outliers is None


@pytest.mark.parametrize("seed", SEEDS)
def test_none_residuals_are_symmetric(seed: int) -> None:
    s, _ = simulate_plot(seed, "none", 1)
    assert abs(skew(s.residuals)) < 0.3
    assert np.array_equal(s.y, s.y_clean)


def test_unknown_class() -> None:
    with pytest.raises(ValueError, match="unknown class 'wobbly'"):
        class_code("wobbly")
