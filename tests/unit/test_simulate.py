"""The simulation: reproducibility and each class's defining property."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import skew

from plotlstm.synth.simulate import (
    CLASSES,
    DEFAULT_PARAMS,
    DEFAULT_SAMPLE_SIZE,
    KINDS,
    N_RANGE,
    STRENGTH,
    SampleSize,
    SpoilParams,
    check_params,
    check_sample_size,
    class_code,
    curve,
    draw_header,
    noise_scale,
    plot_rng,
    simulate,
    simulate_plot,
)

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


def test_original_classes_keep_their_codes() -> None:
    """New classes are appended, so the original four's seeds (and images) do not move."""
    assert CLASSES[:4] == ("none", "biased", "outlier", "ceiling")
    assert [class_code(c) for c in ("heteroskedastic", "nonlinear")] == [4, 5]


@pytest.mark.parametrize("cls", sorted(KINDS))
def test_header_is_the_first_draws(cls: str) -> None:
    sim, _ = simulate_plot(4, cls, 3)
    header = draw_header(cls, plot_rng(4, cls, 3))
    assert (header.n, header.predictors, header.controls) == (sim.n, sim.predictors, sim.controls)
    assert (header.kind, header.strength) == (sim.kind, sim.strength)
    assert header.kind in KINDS[cls] and STRENGTH[cls][0] <= header.strength <= STRENGTH[cls][1]


def test_kinds_and_strengths_cover_their_ranges() -> None:
    for cls in KINDS:
        sims = [simulate_plot(0, cls, i)[0] for i in range(30)]
        assert {s.kind for s in sims} == set(KINDS[cls])
        strengths = [s.strength for s in sims]
        lo, hi = STRENGTH[cls]
        assert lo <= min(strengths) < lo + (hi - lo) / 3 and hi - (hi - lo) / 3 < max(strengths) <= hi


@pytest.mark.parametrize("kind", KINDS["heteroskedastic"])
def test_heteroskedastic_noise_sd_follows_the_signal(kind: str) -> None:
    params = check_params({"heteroskedastic": {"kinds": [kind], "strength": [6.0, 6.0]}})
    s, _ = simulate_plot(1, "heteroskedastic", 2, params)
    # the noise sd in the lowest, middle and highest fifth of the fitted values
    order = np.argsort(s.fitted)
    fifths = np.array_split(order, 5)
    sd = np.array([s.residuals[f].std() for f in fifths])
    if kind == "fan_right":
        assert sd[4] > 1.5 * sd[0]
    elif kind == "fan_left":
        assert sd[0] > 1.5 * sd[4]
    else:
        assert min(sd[0], sd[4]) > 1.5 * sd[2]
    assert s.strength == 6.0 and s.kind == kind


def test_noise_scale_ratio_and_rms() -> None:
    t = np.linspace(-0.2, 1.2, 1001)
    for kind in KINDS["heteroskedastic"]:
        w = noise_scale(kind, 5.0, t)
        assert w.max() / w.min() == pytest.approx(5.0)
        assert np.sqrt(np.mean(w**2)) == pytest.approx(1.0)


@pytest.mark.parametrize("kind", KINDS["nonlinear"])
def test_nonlinear_residuals_bend(kind: str) -> None:
    params = check_params({"nonlinear": {"kinds": [kind], "strength": [5.0, 5.0]}})
    s, _ = simulate_plot(1, "nonlinear", 2, params)
    lo, hi = np.quantile(s.fitted, (0.005, 0.995))
    u = (s.fitted - lo) / (hi - lo)  # the mean residual in five equal stretches of the fitted values' span
    mean = np.array([s.residuals[(u >= a) & (u < a + 0.2)].mean() for a in (0.0, 0.2, 0.4, 0.6, 0.8)])
    if kind == "u":
        assert mean[0] > mean[2] < mean[4]
    elif kind == "inverted_u":
        assert mean[0] < mean[2] > mean[4]
    else:  # one full wave less its straight-line part: down at 0.2-0.4, up at 0.6-0.8
        assert mean[1] < 0 < mean[3]
    assert max(abs(mean)) > 0.3 * s.s  # noise sd is s: the bend stands out of it


def test_curve_heights() -> None:
    t = np.linspace(0, 1, 2001)
    for kind in KINDS["nonlinear"]:
        h = curve(kind, t)
        assert np.ptp(h) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"nonlinear": {"strength": [0, 2]}}, r"class_params\.nonlinear\.strength: \[0, 2\] is out of range"),
        (
            {"heteroskedastic": {"strength": [2, 200]}},
            r"heteroskedastic\.strength: \[2, 200\] is out of range",
        ),
        ({"heteroskedastic": {"strength": [True, 2]}}, r"heteroskedastic\.strength: expected \[low, high\]"),
        ({"heteroskedastic": {"kinds": []}}, r"heteroskedastic\.kinds: expected a non-empty list"),
        (
            {"heteroskedastic": {"kinds": ["u"]}},
            r"heteroskedastic\.kinds: unknown kind 'u'; expected some of fan_right",
        ),
        ({"nonlinear": {"kinds": ["u", "u"]}}, r"names a kind twice"),
        ({"wobbly": {}}, r"class_params: 'wobbly' has no parameters"),
        ([1, 2], r"class_params: expected a mapping"),
    ],
)
def test_bad_params(params: object, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        check_params(params)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_default_params_and_partial_override() -> None:
    assert check_params(None) == DEFAULT_PARAMS
    got = check_params({"nonlinear": {"strength": [1, 2]}})
    assert got["nonlinear"] == SpoilParams(KINDS["nonlinear"], (1.0, 2.0))
    assert got["heteroskedastic"] == DEFAULT_PARAMS["heteroskedastic"]


# --- the sample size option ---------------------------------------------------------------------------------------

MAIN_N = {
    "none": [8522, 8909, 2295, 7278],
    "biased": [5269, 6775, 5596, 1313],
    "outlier": [9797, 9680, 1712, 2486],
    "ceiling": [5088, 9197, 5397, 7130],
    "heteroskedastic": [4561, 6654, 2127, 7942],
    "nonlinear": [6995, 5629, 3242, 145],
}
"""n of plots 0..3 of each class, seed 0, computed with the generator before n could be set."""


@pytest.mark.parametrize("cls", CLASSES)
def test_default_n_is_the_reference_draw(cls: str) -> None:
    """The default draws n exactly as before the option (the rng's first draw, integers(100, 10_001)), so every
    existing data set and seed experiment reproduces bit for bit."""
    assert DEFAULT_SAMPLE_SIZE == check_sample_size() == SampleSize(100, 10_000, "uniform")
    assert N_RANGE == (100, 10_000)
    for i in range(4):
        explicit = int(plot_rng(0, cls, i).integers(100, 10_001))
        assert draw_header(cls, plot_rng(0, cls, i)).n == explicit == MAIN_N[cls][i]
        assert draw_header(cls, plot_rng(0, cls, i), None, DEFAULT_SAMPLE_SIZE).n == explicit
    a, _ = simulate_plot(0, cls, 1)
    b, _ = simulate_plot(0, cls, 1, None, DEFAULT_SAMPLE_SIZE)
    assert a.n == b.n == MAIN_N[cls][1]
    assert np.array_equal(a.residuals, b.residuals) and np.array_equal(a.fitted, b.fitted)


def test_log_scale_draws_within_the_range_and_favours_small_n() -> None:
    sample = check_sample_size([20, 10_000], "log")
    ns = np.array([draw_header("none", plot_rng(0, "none", i), None, sample).n for i in range(400)])
    assert ns.min() >= 20 and ns.max() <= 10_000
    # log-uniform: about a third of the draws below 200 (log 10 / log 500 = 0.37); uniform would give 1 %
    assert 0.25 < np.mean(ns < 200) < 0.5
    assert np.mean(ns > 1_000) > 0.25
    assert len(set(ns)) > 200  # not stuck on a few values
    uniform = check_sample_size([20, 10_000], "uniform")
    nu = np.array([draw_header("none", plot_rng(0, "none", i), None, uniform).n for i in range(400)])
    assert np.mean(nu < 200) < 0.05


@pytest.mark.parametrize("cls", CLASSES)
def test_small_n_simulates_every_class(cls: str) -> None:
    sample = check_sample_size((10, 10), "log")
    for i in range(5):
        s, _ = simulate_plot(0, cls, i, None, sample)
        assert s.n == 10 == len(s.residuals) == len(s.fitted) and s.design.shape[0] == 10
        assert np.all(np.isfinite(s.residuals)) and np.all(np.isfinite(s.fitted))
        if cls == "outlier":
            assert len(s.outliers) == 3


def test_one_value_range_gives_that_n() -> None:
    for scale in ("uniform", "log"):
        sample = check_sample_size([250, 250], scale)
        assert {draw_header("biased", plot_rng(1, "biased", i), None, sample).n for i in range(5)} == {250}


@pytest.mark.parametrize(
    ("n_range", "n_scale", "match"),
    [
        ([9, 100], "log", r"n_range: low 9 is below 10 \(the design has up to 9 columns"),
        ([500, 100], "uniform", r"n_range: \[500, 100\] has low > high"),
        ([100, 2_000_000], "uniform", r"n_range: high 2,000,000 is above 1,000,000"),
        ([100], "uniform", r"n_range: expected \[low, high\] \(whole numbers\), got \[100\]"),
        ([20.5, 100], "uniform", r"n_range: expected \[low, high\]"),
        ([True, 100], "uniform", r"n_range: expected \[low, high\]"),
        ("20..100", "uniform", r"n_range: expected \[low, high\]"),
        ([20, 100], "exp", r"n_scale: unknown scale 'exp'; use one of uniform, log"),
        ([20, 100], None, r"n_scale: unknown scale None"),
    ],
)
def test_bad_sample_size(n_range: object, n_scale: object, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        check_sample_size(n_range, n_scale)
    assert "\n" not in str(info.value)
