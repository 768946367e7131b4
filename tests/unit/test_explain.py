"""Where the evidence lies: exact per-step contributions of the LSTM, the occlusion sweep of the CNNs, intervals of
fitted values and outlier rows in ``check``'s result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from plotlstm.inference import explain
from plotlstm.inference.check import CheckResult, fitted_axis, locate, plot_x
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.explain import column_evidence, intervals
from plotlstm.models.coordconv import CoordConvNet
from plotlstm.models.lstm import SeedLSTMNet
from plotlstm.synth.render import render
from plotlstm.synth.style import R_STYLE


def test_lstm_steps_sum_to_the_logit() -> None:
    torch.manual_seed(0)
    net = SeedLSTMNet(4, image_size=16, lstm_size=8, hidden_size=4).eval()
    x = torch.rand(3, 3, 16, 16)
    classes = torch.tensor([0, 2, 3])
    evidence = column_evidence(net, x, classes)
    assert evidence.shape == (3, 16)
    logits = net(x).gather(1, classes[:, None]).squeeze(1)
    torch.testing.assert_close(evidence.sum(1) + net.head.bias[classes], logits, atol=1e-5, rtol=0)


def test_occlusion_sees_only_the_columns_a_network_reads() -> None:
    """A CNN made to look only at the image's right half gets no evidence from the left half."""
    torch.manual_seed(1)
    net = CoordConvNet(3, image_size=32, channels=(4, 8), grid=4).eval()
    with torch.no_grad():
        net.head.weight.view(3, 8, 4, 4)[:, :, :, :2] = 0  # the head ignores the left half of the grid
    x = torch.rand(2, 3, 32, 32)
    evidence = column_evidence(net, x, torch.tensor([0, 1]))
    assert evidence.shape == (2, 32)
    assert evidence[:, :8].abs().max() < 1e-5 and evidence[:, 16:].abs().max() > 1e-4  # bands of 8 columns


def test_intervals_find_the_peak_and_its_share() -> None:
    axis = np.linspace(0, 10, 64)
    evidence = np.zeros(64)
    evidence[40:46] = 1.0
    evidence[5] = 0.5
    top = intervals(evidence, axis)
    assert top[0].low <= axis[42] <= top[0].high and top[0].high - top[0].low < 2
    assert top[0].share == pytest.approx(6 / 6.5, abs=0.05) and len(top) >= 2
    assert intervals(-evidence, axis) == []


def test_fitted_axis_maps_columns_inside_the_plot_area() -> None:
    fitted = np.linspace(-3, 7, 100)
    axis = fitted_axis(plot_x(fitted, np.zeros(100), R_STYLE), 64)
    inside = axis[np.isfinite(axis)]
    assert 30 < len(inside) < 64 and np.all(np.diff(inside) > 0)
    assert inside[0] < -2.5 and inside[-1] > 6.5  # R's 4 % margins on each side


def test_outlier_rows_are_the_far_points_in_the_flagged_stretches(four_class_ckpt: Path) -> None:
    clf = PlotClassifier.from_checkpoint(four_class_ckpt, device="cpu")
    rng = np.random.default_rng(2)
    fitted, residuals = rng.normal(size=300), rng.normal(size=300)
    planted = np.array([10, 50, 200])
    residuals[planted] = [9.0, -8.0, 10.0]
    result = CheckResult(
        "fit", "outlier", image=render(fitted, residuals), fitted=fitted, residuals=residuals
    )
    located = locate([result, CheckResult("other", "none")], clf, R_STYLE)
    assert located[1].where == [] and located[0].where
    assert set(located[0].rows) <= set(planted.tolist())
    assert sum(w.share for w in located[0].where) <= 1 + 1e-9
    row = located[0].as_dict()
    assert row["where"][0].keys() == {"low", "high", "share"} and row["rows"] == located[0].rows
    # the strip under the plot: each stretch where the model input's columns of those fitted values lie
    size = clf.prepare(result.image).shape[-1]  # the model input's columns
    axis = fitted_axis(plot_x(fitted, residuals, R_STYLE), size)
    centres = (np.arange(size) + 0.5) / size
    for w, seg in zip(located[0].where, located[0].strip(), strict=True):
        columns = centres[(axis >= w.low - 1e-9) & (axis <= w.high + 1e-9)]
        assert seg["left"] == pytest.approx(columns[0], abs=1e-6)
        assert seg["left"] + seg["width"] == pytest.approx(columns[-1], abs=1e-6)
    assert row["x_axis"] == located[0].x_axis and 0 < row["x_axis"]["left"] < row["x_axis"]["right"] < 1
    html = located[0]._repr_html_()
    assert f"left:{100 * located[0].strip()[0]['left']:.1f}%" in html  # the notebook draws it under the plot
    assert "left:" not in located[1]._repr_html_() and located[1].strip() == []


def test_flagged_rows_are_far_points_in_flagged_columns() -> None:
    from plotlstm.inference.check import flagged_rows

    fitted = np.linspace(0, 10, 200)
    residuals = np.random.default_rng(3).normal(size=200) * 0.5
    residuals[[20, 100, 180]] = [6.0, -9.0, 7.0]  # at fitted 1.0, 5.0 and 9.0
    axis = np.linspace(0, 10, 41)
    evidence = np.where(axis > 4, 1.0, 0.0)  # the columns above 4 speak for the class
    assert flagged_rows(fitted, residuals, evidence, axis) == [100, 180]


def test_flagged_rows_are_not_capped() -> None:
    """Every far point in the flagged columns is listed, however many (a fit of 5,000 rows with 3 % outliers has
    150)."""
    from plotlstm.inference.check import flagged_rows

    rng = np.random.default_rng(0)
    fitted = rng.uniform(0, 1, 5_000)
    residuals = rng.normal(0, 0.1, 5_000)
    planted = rng.choice(5_000, 150, replace=False)
    residuals[planted] += 2.0
    axis = np.linspace(0, 1, 64)
    rows = flagged_rows(fitted, residuals, np.ones(64), axis)
    assert set(planted.tolist()) <= set(rows) and len(rows) < 160


@pytest.mark.parametrize("preset", ["r", "matplotlib", "seaborn", "statsmodels", "ggplot2"])
@pytest.mark.parametrize("size", [64, 256])
def test_plot_area_finds_the_axes_box_of_each_look(preset: str, size: int) -> None:
    """The found columns are the drawn plot region's (from the renderer's own layout), within 1.5 model pixels."""
    from plotlstm.data.images import image_to_uint8
    from plotlstm.inference.explain import plot_area
    from plotlstm.synth.render import _region, render
    from plotlstm.synth.style import PRESETS, R_STYLE

    style = R_STYLE.replace(**PRESETS[preset]) if preset in PRESETS else R_STYLE
    rng = np.random.default_rng(1)
    image = image_to_uint8(render(rng.normal(size=400), rng.normal(size=400), style), size, "bilinear")
    left, _, right, _, _ = _region(style)
    found = plot_area(image)
    assert found is not None
    assert (
        abs(found[0] - left * size / style.width) <= 1.5 and abs(found[1] - right * size / style.width) <= 1.5
    )


def test_plot_area_is_none_without_a_box() -> None:
    from plotlstm.inference.explain import plot_area

    blank = torch.full((3, 64, 64), 255, dtype=torch.uint8)
    dots = blank.clone()
    dots[:, torch.arange(5, 60, 7), torch.arange(3, 58, 7)] = 0  # points, no lines
    assert plot_area(blank) is None and plot_area(dots) is None


def test_uploaded_evidence_is_mapped_to_the_plot_area() -> None:
    """At 64 model pixels the box is found: the stretches are shares of the plot area, the area shares of the
    image's width (the service's ``/v1/classify?explain=true`` answer)."""
    from plotlstm.data.images import image_to_uint8
    from plotlstm.service.answers import uploaded_evidence
    from plotlstm.synth.render import _region, render
    from plotlstm.synth.style import R_STYLE

    rng = np.random.default_rng(2)
    image = image_to_uint8(render(rng.normal(size=300), rng.normal(size=300)), 64, "bilinear")
    evidence = np.zeros(64)
    evidence[50:54] = 1.0  # near the right of the plot area (columns 7..60)
    answer = uploaded_evidence(evidence, image)
    left, _, right, _, _ = _region(R_STYLE)
    assert answer["plot_area"]["left"] == pytest.approx(left / R_STYLE.width, abs=1.5 / 64)
    assert answer["plot_area"]["right"] == pytest.approx(right / R_STYLE.width, abs=1.5 / 64)
    top = answer["where"][0]
    assert 0.7 < top["low"] < top["high"] < 0.95 and top["share"] > 0.9


def test_the_feature_sweep_cuts_the_network_where_it_runs_whole() -> None:
    """``top(trunk(x))`` is the network; its feature-space sweep, like the input sweep, finds nothing where the
    head does not read, and ``names`` send the classes of ``INPUT_SWEEP`` to the input sweep."""
    torch.manual_seed(3)
    net = CoordConvNet(3, image_size=32, channels=(4, 8), grid=4).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net.top(net.trunk(x)), net(x))
        net.head.weight.view(3, 8, 4, 4)[:, :, :, :2] = 0
    by_features = explain.column_evidence(net, x, torch.tensor([0, 1]), names=["outlier", "ceiling"])
    assert by_features[:, :8].abs().max() < 1e-5 and by_features[:, 16:].abs().max() > 1e-4
    mixed = explain.column_evidence(net, x, torch.tensor([0, 1]), names=["outlier", "heteroskedastic"])
    torch.testing.assert_close(mixed[0], by_features[0])
    old = explain.SWEEP
    try:
        explain.SWEEP = "input"
        alone = explain.column_evidence(net, x[1:], torch.tensor([1]), band=explain.WIDE_BAND)[0]
        torch.testing.assert_close(mixed[1], alone)  # a fan's input sweep in bands of WIDE_BAND columns
    finally:
        explain.SWEEP = old
    assert not torch.allclose(mixed[1], by_features[1])


def test_a_fans_widest_stretch_comes_first() -> None:
    from plotlstm.inference.check import widest_first
    from plotlstm.inference.explain import Interval

    rng = np.random.default_rng(4)
    fitted = rng.uniform(0, 10, 2000)
    residuals = rng.normal(size=2000) * (0.2 + fitted)  # wide at the right
    where = [Interval(0, 3, 0.6), Interval(7, 10, 0.3), Interval(4, 4.001, 0.1)]  # the last holds < 10 rows
    assert [w.low for w in widest_first(where, fitted, residuals)] == [7, 0, 4]


def test_a_curves_sharpest_bend_comes_first() -> None:
    """A hinge at 7 in the mean: fitted by a line, the residuals bend most there, not where the evidence is."""
    from plotlstm.inference.check import bend_first
    from plotlstm.inference.explain import Interval

    rng = np.random.default_rng(5)
    fitted = rng.uniform(0, 10, 2000)
    mean = 3 * np.maximum(fitted - 7, 0)
    residuals = mean - np.polyval(np.polyfit(fitted, mean, 1), fitted) + rng.normal(scale=0.3, size=2000)
    where = [Interval(0, 2, 0.5), Interval(8.5, 10, 0.3), Interval(6, 7.5, 0.2)]
    assert [w.low for w in bend_first(where, fitted, residuals)][0] == 6
    mean = -2 * np.maximum(1 - fitted, 0)  # a concave bend at 1: the stretch 0..2 first
    residuals = mean - np.polyval(np.polyfit(fitted, mean, 1), fitted) + rng.normal(scale=0.3, size=2000)
    assert [w.low for w in bend_first(where, fitted, residuals)][0] == 0


def test_a_large_fits_bend_is_found_on_a_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond ``BEND_ROWS`` rows the hinges are fitted on a fixed subset: the same order as on every row, the
    same order twice, and the rows given are not changed."""
    import plotlstm.inference.check as check_module
    from plotlstm.inference.explain import Interval

    rng = np.random.default_rng(6)
    fitted = rng.uniform(0, 10, 40_000)
    mean = 0.5 * np.maximum(fitted - 7, 0)
    residuals = mean - np.polyval(np.polyfit(fitted, mean, 1), fitted) + rng.normal(size=40_000)
    where = [Interval(0, 2, 0.4), Interval(8.5, 10, 0.3), Interval(6, 7.5, 0.2), Interval(3, 5, 0.1)]
    everything = check_module.bend_first(where, fitted, residuals)
    monkeypatch.setattr(check_module, "BEND_ROWS", 5_000)
    before = residuals.copy()
    subset = check_module.bend_first(where, fitted, residuals)
    assert subset[0].low == everything[0].low == 6
    assert subset == check_module.bend_first(where, fitted, residuals)
    assert np.array_equal(residuals, before)


def test_a_caps_stretch_with_the_capped_rows_comes_first() -> None:
    """y capped at its 85th percentile: the stretch holding the tied rows first, whatever the evidence said;
    without ties (no hard cap) the evidence's order stays."""
    from plotlstm.inference.check import capped_first
    from plotlstm.inference.explain import Interval

    rng = np.random.default_rng(6)
    x = rng.uniform(0, 10, 2000)
    y = np.minimum(x + rng.normal(size=2000), np.quantile(x, 0.85))
    design = np.column_stack([np.ones_like(x), x])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    where = [Interval(0, 3, 0.6), Interval(4, 6, 0.3), Interval(7.5, 10, 0.1)]
    assert [w.low for w in capped_first(where, fitted, y - fitted)] == [
        7.5,
        0,
        4,
    ]  # no capped rows: as before
    floored = np.maximum(x + rng.normal(size=2000), 2.0)  # a floor: the ties at the smallest value
    fitted = design @ np.linalg.lstsq(design, floored, rcond=None)[0]
    assert capped_first(where, fitted, floored - fitted)[0].low == 0
    free = x + rng.normal(size=2000)
    assert capped_first(where, x, free - x) == where
