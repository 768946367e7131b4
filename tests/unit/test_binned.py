"""Large fits: the binned lowess against statsmodels' on every point, markers from pixel counts against per-point
stamping, and a large fit's verdict against the verdict on the exact R-look render of the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from plotlstm.inference.check import FitData, check, draw
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule
from plotlstm.synth import render as render_module
from plotlstm.synth import simulate as simulate_module
from plotlstm.synth.binned import binned_lowess
from plotlstm.synth.render import curve_vertices, lowess, plot_limits, render_array
from plotlstm.synth.simulate import CLASSES, plot_rng, simulate

PLOT_HEIGHT = 386  # px between the R style's top and bottom margins


def curve_error_px(x: np.ndarray, y: np.ndarray) -> float:
    """Largest vertical distance, in pixels of the R-look plot, between the binned and the exact lowess curve."""
    grid = np.linspace(x.min(), x.max(), 4000)
    exact = np.interp(grid, *curve_vertices(*lowess(x, y)))
    fast = np.interp(grid, *binned_lowess(x, y))
    _, _, y0, y1 = plot_limits(x, y)
    return float(np.abs(exact - fast).max() / (y1 - y0) * PLOT_HEIGHT)


@pytest.mark.parametrize("cls", CLASSES)
def test_binned_lowess_is_within_half_a_pixel_of_the_exact_curve(cls: str) -> None:
    errors = [
        curve_error_px(s.fitted, s.residuals) for s in (simulate(cls, plot_rng(11, cls, i)) for i in range(3))
    ]
    assert max(errors) < 0.5, errors


def test_binned_lowess_follows_skewed_heavy_x_and_a_wide_range_of_scales() -> None:
    rng = np.random.default_rng(0)
    x = rng.gamma(1.5, size=30_000) * 1e6
    y = (rng.standard_normal(30_000) * (1 + x / 1e6) + np.sin(x / 4e5)) * 1e-3
    assert curve_error_px(x, y) < 0.5
    # a wrong robustness step or window would miss by many pixels: the check can fail
    assert curve_error_px(x, y + (x > np.median(x)) * 5e-3) < 0.5


def test_binned_lowess_crosses_gaps_and_ties_as_r_does() -> None:
    """R fits at data points: straight across a gap in x, and at every value of a discrete x."""
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.random(3000), 5 + rng.random(3000)])
    y = rng.standard_normal(6000) + np.sin(x)
    assert curve_error_px(x, y) < 0.5
    xs, _ = binned_lowess(x, y)
    assert not ((xs > 1.01) & (xs < 4.99)).any()  # no fit point inside the gap
    discrete = rng.integers(0, 5, size=20_000).astype(float)
    noise = rng.standard_normal(20_000)
    assert np.array_equal(binned_lowess(discrete, noise)[0], np.arange(5.0))
    assert curve_error_px(discrete, noise) < 0.05


def test_counts_stamping_equals_per_point_stamping(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    x, r = rng.gamma(2.0, size=20_000), rng.standard_normal(20_000)
    monkeypatch.setattr(render_module, "STAMP_BY_COUNTS", 10**12)
    per_point = render_array(x, r)
    monkeypatch.setattr(render_module, "STAMP_BY_COUNTS", 1)
    by_counts = render_array(x, r)
    assert np.abs(per_point.astype(int) - by_counts).max() <= 1


def test_large_fit_verdict_matches_the_exact_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fits of 100,000 rows of each class: the fast path (binned lowess, counted markers) draws nearly the same
    pixels as the exact render (statsmodels' lowess on every point, every marker stamped) and gets the verdict."""
    torch.manual_seed(0)
    ckpt = Checkpoint.save(
        PlotLitModule(len(CLASSES), list(CLASSES), image_size=128, net=dict(lstm_size=16, hidden_size=8)),
        tmp_path / "m.ckpt",
    )
    clf = PlotClassifier.from_checkpoint(ckpt, device="cpu")
    monkeypatch.setattr(simulate_module, "N_RANGE", (100_000, 100_000))
    fits = [simulate(cls, plot_rng(3, cls, 0)) for cls in CLASSES]
    fast = [draw(FitData(s.fitted, s.residuals)) for s in fits]
    with monkeypatch.context() as m:
        m.setattr(render_module, "STAMP_BY_COUNTS", 10**12)
        exact = [render_module.render(s.fitted, s.residuals) for s in fits]
    for a, b in zip(fast, exact, strict=True):
        diff = np.abs(np.asarray(a, dtype=int) - np.asarray(b)).max(axis=2)
        assert (diff > 0).mean() < 0.002 and (diff > 64).sum() < 100
    for f, e in zip(clf.predict(fast), clf.predict(exact), strict=True):
        assert f.label == e.label and f.probabilities == pytest.approx(e.probabilities, abs=1e-3)
    batch = check([(s.fitted, s.residuals) for s in fits], classifier=clf, null_plots=0)
    assert [r.label for r in batch] == [p.label for p in clf.predict(exact)]
