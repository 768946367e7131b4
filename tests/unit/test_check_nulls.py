"""Null plots and the lineup test of ``check``: exact null residuals, the p-value, seeds, the result, bad options."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

from plotlstm.errors import CheckError
from plotlstm.inference.check import check
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.nulls import NoNullModel, null_model, null_test


@pytest.fixture(scope="module")
def clf(four_class_ckpt: Path) -> PlotClassifier:
    return PlotClassifier.from_checkpoint(four_class_ckpt, device="cpu")


def ols_fit(
    n: int = 80, seed: int = 0, factor: bool = False
) -> sm.regression.linear_model.RegressionResultsWrapper:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, n) if factor else rng.normal(size=n)
    design = (
        np.column_stack([np.ones(n), *(x[:, None] == np.arange(1, 5)).T])
        if factor
        else np.column_stack([np.ones(n), x])
    )
    return sm.OLS(design @ rng.normal(size=design.shape[1]) + rng.normal(size=n), design).fit()


@pytest.mark.parametrize("weighted", [False, True])
def test_rotated_residuals_are_residuals_of_the_design_with_the_same_rss(weighted: bool) -> None:
    rng = np.random.default_rng(1)
    n = 60
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    w = np.linspace(0.5, 3, n) if weighted else np.ones(n)
    fit = sm.WLS(x @ [1, 2, 3] + rng.normal(size=n) / np.sqrt(w), x, weights=w).fit()
    model = null_model(fit, np.asarray(fit.fittedvalues), np.asarray(fit.resid))
    fitted, r = model.draw(rng)
    assert np.array_equal(fitted, fit.fittedvalues)
    refit = sm.WLS(fitted + r, x, weights=w).fit()  # refitting the null response gives the same fitted values
    np.testing.assert_allclose(refit.fittedvalues, fitted, atol=1e-9)
    np.testing.assert_allclose(np.sum(w * r**2), fit.ssr, rtol=1e-9)
    assert not np.allclose(r, fit.resid)


def test_rotation_gives_exact_p_values_on_a_factor_design() -> None:
    """Under a correct model the rank of the real residuals among K rotations is uniform: at alpha 0.05 with
    K = 19, 5% of 1,000 correct fits are flagged (here with max |r| as the statistic, no images)."""
    k, flagged = 19, 0
    for seed in range(1000):
        fit = ols_fit(n=30, seed=seed, factor=True)
        model = null_model(fit, np.asarray(fit.fittedvalues), np.asarray(fit.resid))
        rng = np.random.default_rng(seed)
        stat = np.abs(fit.resid).max()
        nulls = [np.abs(model.draw(rng)[1]).max() for _ in range(k)]
        flagged += (1 + sum(s >= stat for s in nulls)) / (k + 1) <= 0.05
    assert 0.035 <= flagged / 1000 <= 0.065


def test_p_value_counts_ties_against_the_real_plot_and_names_the_strongest_class() -> None:
    classes = ["biased", "ceiling", "none", "outlier", "unrecognized"]
    real = np.array([0.1, 0.1, 0.05, 0.7, 0.05])
    nulls = np.tile([0.05, 0.2, 0.7, 0.0, 0.05], (19, 1))
    test = null_test(real, nulls, classes, 0.05)
    assert test.p_value == pytest.approx(1 / 20) and test.label == "outlier" and test.null_plots == 19
    assert test.evidence == {
        "biased": pytest.approx(0.05),
        "ceiling": pytest.approx(1.0),
        "outlier": pytest.approx(0.05),
    }
    tied = null_test(nulls[0], nulls, classes, 0.05)  # the real plot equals every null plot: no evidence
    assert tied.p_value == 1.0 and tied.label == "none"


def test_check_reports_the_test_and_is_seeded(clf: PlotClassifier) -> None:
    fit = ols_fit(n=120, seed=3)
    first = check(fit, classifier=clf)
    again = check(fit, classifier=clf)
    assert first.null_plots == 19 and first.p_value is not None and 0.05 <= first.p_value <= 1
    assert first.p_value == again.p_value and first.label == again.label and first.evidence == again.evidence
    assert first.design == "the model's (OLS)" and first.image_label in clf.classes
    assert first.label == "none" or first.p_value <= 0.05
    row = first.as_dict()
    assert (
        row["p_value"] == first.p_value
        and row["null_plots"] == 19
        and row["image_class"] == first.image_label
    )
    assert first.summary in first._repr_html_()
    other = [check(fit, classifier=clf, seed=s).p_value for s in range(1, 6)]
    assert len(set(other + [first.p_value])) > 1  # the seed draws the null plots
    assert check(fit, classifier=clf, null_plots=0).p_value is None


def test_designs_in_words_and_fits_without_a_null_model(clf: PlotClassifier) -> None:
    rng = np.random.default_rng(7)
    f, r = rng.normal(size=50), rng.normal(size=50)
    approx = check(fitted=f, residuals=r, classifier=clf)
    assert approx.design.startswith("approximated") and approx.p_value is not None
    x = sm.add_constant(rng.normal(size=50))
    poisson = sm.GLM(rng.poisson(np.exp(0.5 + 0.3 * x[:, 1])), x, family=sm.families.Poisson()).fit()
    glm = check(poisson, classifier=clf, null_plots=5, alpha=0.2)
    assert "parametric bootstrap" in glm.design and glm.null_plots == 5
    robust = sm.RLM(rng.normal(size=50), x).fit()
    rlm = check(robust, classifier=clf)
    assert (
        rlm.p_value is None
        and rlm.note == "no null plots: no null plots for a statsmodels RLM fit (OLS, WLS and GLM have them)"
    )
    assert rlm.label == rlm.image_label and "RLM" in rlm._repr_html_()
    wide = sm.OLS(rng.normal(size=12), np.column_stack([np.ones(12), rng.normal(size=(12, 9))])).fit()
    small = check(wide, classifier=clf)
    assert small.p_value is None and "12 observations for 10 design columns: too few" in small.note
    with pytest.raises(NoNullModel, match="only linear models and GLMs"):
        null_model(object(), f, r)


def test_sklearn_and_dropped_rows_use_the_same_rows_of_the_design(clf: PlotClassifier) -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(8)
    X = rng.normal(size=(70, 2))
    y = X @ [1.0, -2.0] + rng.normal(size=70)
    est = linear_model.LinearRegression().fit(X, y)
    result = check(est, X, y, classifier=clf)
    assert result.design.startswith("the model's (LinearRegression") and result.p_value is not None
    fit = ols_fit(n=60, seed=9)
    fitted = np.asarray(fit.fittedvalues).copy()
    fitted[[4, 10]] = np.nan
    model = null_model(
        fit, fitted[~np.isnan(fitted)], np.asarray(fit.resid)[~np.isnan(fitted)], keep=~np.isnan(fitted)
    )
    _, r = model.draw(rng)
    assert len(r) == 58 and abs(r @ fit.model.exog[~np.isnan(fitted)][:, 1]) < 1e-8


def test_lineup_hides_the_real_plot_among_nulls(clf: PlotClassifier) -> None:
    result = check(ols_fit(n=40, seed=11), classifier=clf)
    lineup = result.lineup()
    assert len(lineup.panels) == 20 and lineup.panels[lineup.answer - 1] is result.image
    assert lineup.answer == result.lineup().answer  # seeded
    assert lineup.image.size == (1000, 800) and "answer" in lineup._repr_html_()
    with pytest.raises(CheckError, match="no null plots for this fit"):
        check(ols_fit(n=40, seed=11), classifier=clf, null_plots=0).lineup()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"null_plots": -1}, "null_plots: a whole number 0..999"),
        ({"null_plots": 19, "alpha": 0.01}, "alpha: 0.01 is below 1/(null_plots + 1) = 0.05"),
        ({"alpha": 1.5}, "alpha: a number between 0 and 1"),
        ({"seed": "x"}, "seed: a whole number >= 0"),
    ],
)
def test_bad_test_options_are_one_line(clf: PlotClassifier, options: dict, message: str) -> None:
    with pytest.raises(CheckError, match=f"^{re.escape(message)}"):
        check(ols_fit(), classifier=clf, **options)


def test_a_failing_null_refit_falls_back_to_the_picture(
    clf: PlotClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plotlstm.inference import nulls

    calls = []
    real = nulls._simulate_family

    def separating(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) > 1:  # the first call only checks the family
            raise ValueError("Perfect separation detected")
        return real(*args, **kwargs)

    rng = np.random.default_rng(12)
    x = sm.add_constant(rng.normal(size=60))
    fit = sm.GLM(rng.poisson(2.0, 60), x, family=sm.families.Poisson()).fit()
    monkeypatch.setattr(nulls, "_simulate_family", separating)
    result = check(fit, classifier=clf)
    assert result.p_value is None and "a null refit failed (Perfect separation detected)" in result.note


def test_null_plots_are_converted_as_they_are_drawn() -> None:
    """``prepare(convert=...)`` keeps only what ``convert`` made of each null plot (the service's model input), and
    the same null plots as without it."""
    from plotlstm.inference.check import prepare

    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    fit = sm.OLS(1 + x + rng.normal(size=300), sm.add_constant(x)).fit()
    plain = prepare(fit, null_plots=4, seed=1)
    sizes = prepare(fit, null_plots=4, seed=1, convert=lambda image: np.asarray(image).sum())
    assert all(isinstance(v, np.integer) for v in sizes.null_images)
    assert sizes.null_images == [np.asarray(image).sum() for image in plain.null_images]


@pytest.mark.parametrize("threads", [1, 3])
def test_draw_many_draws_in_order_holding_as_many_data_sets_as_threads(monkeypatch, threads: int) -> None:
    """Null plots come back in the order their data were made, each converted; no more data sets are alive
    at a time than drawing threads (the next is made when a thread is free)."""
    import time
    import weakref

    import plotlstm.inference.check as check_module

    alive, most, made = [0], [0], []

    def make() -> check_module.FitData:
        most[0] = max(most[0], alive[0] + 1)
        k = len(made)
        made.append(k)
        d = check_module.FitData(np.full(check_module.PARALLEL_DRAW_MIN, float(k)), np.zeros(3))
        alive[0] += 1
        weakref.finalize(d, lambda: alive.__setitem__(0, alive[0] - 1))
        return d

    def render(fitted, residuals, style, smoother):  # a slow fake: the plot is its data's number
        time.sleep(0.02 * (1 + int(fitted[0]) % 3))
        return int(fitted[0])

    monkeypatch.setattr(check_module, "render", render)
    monkeypatch.setattr(check_module, "draw", lambda d, style: render(d.fitted, d.residuals, style, None))
    monkeypatch.setattr(check_module.os, "cpu_count", lambda: threads)
    out = check_module.draw_many(make, 10, convert=lambda image: ("plot", image))
    assert out == [("plot", k) for k in range(10)]
    assert made == list(range(10))
    # one thread: the plot drawn last and the data being made; more: those drawing, the one being made, and one
    # whose thread has answered but not yet let go of its data
    assert 1 <= most[0] <= (2 if threads == 1 else threads + 1)
