"""The `general` style, the ggplot2 preset's band, and the upload flaws (border, shrinking, JPEG)."""

from __future__ import annotations

import copy

import numpy as np

from plotlstm.synth.generator import make_plot
from plotlstm.synth.render import render, render_array
from plotlstm.synth.simulate import simulate_plot
from plotlstm.synth.style import FADE_POINTS, R_STYLE, resolve_style


def test_general_is_deterministic_and_covers_the_looks() -> None:
    styles = [resolve_style("general", simulate_plot(0, "none", i)[1]) for i in range(60)]
    again = [resolve_style("general", simulate_plot(0, "none", i)[1]) for i in range(60)]
    assert styles == again
    assert len({s.width for s in styles}) > 40 and len({round(s.width / s.height, 2) for s in styles}) > 10
    assert {s.marker for s in styles} >= {"dot", "circle"}
    assert any(s.band for s in styles) and any(not s.smoother for s in styles)
    assert any(s.panel != (255, 255, 255) for s in styles) and any(s.grid for s in styles)
    assert (
        any(s.jpeg_quality for s in styles)
        and any(s.border for s in styles)
        and any(s.rescale < 1 for s in styles)
    )
    a = np.asarray(make_plot(0, "ceiling", 3, "general"))
    assert np.array_equal(a, np.asarray(make_plot(0, "ceiling", 3, "general")))


def test_loess_is_opt_in_and_draws_ggplot2s_curve() -> None:
    styles = [resolve_style("general", simulate_plot(0, "none", i)[1]) for i in range(100)]
    assert {s.smoother_method for s in styles} == {"lowess"}  # the bundled model's data: R's lowess
    sim, _ = simulate_plot(3, "none", 0)
    style = resolve_style("ggplot2")
    assert style.smoother_method == "lowess"
    curve = render_array(sim.fitted, sim.residuals, style.replace(smoother_method="loess"))
    assert not np.array_equal(curve, render_array(sim.fitted, sim.residuals, style))


def test_general_keeps_the_points_of_small_plots_visible() -> None:
    """Only the alpha depends on n: never below FADE_POINTS / sqrt(n), the rest of the style as without n."""
    rngs = [simulate_plot(0, "none", i)[1] for i in range(80)]
    plain = [resolve_style("general", copy.deepcopy(r)) for r in rngs]
    for n in (20, 100, 400, 10_000):
        sized = [resolve_style("general", copy.deepcopy(r), n) for r in rngs]
        floor = min(1.0, FADE_POINTS / np.sqrt(n))
        assert all(s.point_alpha >= floor - 1e-12 for s in sized)
        assert all(s.replace(point_alpha=p.point_alpha) == p for s, p in zip(sized, plain, strict=True))
        raised = sum(s.point_alpha > p.point_alpha for s, p in zip(sized, plain, strict=True))
        assert raised > 0 if n <= 400 else raised == 0


def test_band_is_drawn_around_the_smoother() -> None:
    sim, _ = simulate_plot(1, "none", 0)
    style = resolve_style("ggplot2")
    with_band = render_array(sim.fitted, sim.residuals, style)
    without = render_array(sim.fitted, sim.residuals, style.replace(band=False))
    assert with_band.shape == without.shape and not np.array_equal(with_band, without)


def test_upload_flaws() -> None:
    sim, _ = simulate_plot(2, "outlier", 0)
    clean = render(sim.fitted, sim.residuals, R_STYLE)
    framed = render(sim.fitted, sim.residuals, R_STYLE.replace(border=10, border_color=(30, 30, 30)))
    assert framed.size == (500, 500) and framed.getpixel((2, 2)) == (30, 30, 30)
    assert np.array_equal(np.asarray(framed)[10:-10, 10:-10], np.asarray(clean))
    small = render(sim.fitted, sim.residuals, R_STYLE.replace(rescale=0.5))
    assert small.size == (240, 240)
    jpeg = np.asarray(render(sim.fitted, sim.residuals, R_STYLE.replace(jpeg_quality=30)), dtype=float)
    diff = np.abs(jpeg - np.asarray(clean, dtype=float))
    assert jpeg.shape == (480, 480, 3) and 0 < diff.mean() < 20
