"""The renderer: the lowess and loess curves, pretty ticks, determinism, sizes and styles, the PNG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from plotlstm.synth.generator import make_plot
from plotlstm.synth.render import (
    LOESS_POINTS,
    curve_vertices,
    format_ticks,
    loess,
    lowess,
    plot_limits,
    pretty,
    render_array,
    save_png,
)
from plotlstm.synth.simulate import CLASSES, simulate_plot
from plotlstm.synth.style import PRESETS, R_STYLE, Style, resolve_style, sample_style, validate_style_option


def test_curve_vertices_keep_the_corners() -> None:
    xs = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    ys = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 1.0, -1.0])  # a tie, straight runs, one corner at 3
    vx, vy = curve_vertices(xs, ys)
    assert vx.tolist() == [0.0, 3.0, 5.0] and vy.tolist() == [0.0, 3.0, -1.0]
    s, _ = simulate_plot(4, "biased", 2)
    fx, fy = lowess(s.fitted, s.residuals)
    vx, vy = curve_vertices(fx, fy)
    assert 2 < len(vx) < 200 < len(fx)  # about 100 fit points (delta = 1 % of the range)
    np.testing.assert_allclose(np.interp(fx, vx, vy), fy, atol=1e-6 * np.std(s.residuals))


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (9.0, 25.3, [10, 15, 20, 25]),
        (3.5, 18.8, [4, 6, 8, 10, 12, 14, 16, 18]),
        (-7.6, 10.7, [-5, 0, 5, 10]),
        (-0.26, 0.43, [-0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4]),
        (-0.26, 0.83, [-0.2, 0.0, 0.2, 0.4, 0.6, 0.8]),
    ],
)
def test_pretty_like_r(lo: float, hi: float, expected: list[float]) -> None:
    np.testing.assert_allclose(pretty(lo, hi), expected)


def test_format_ticks() -> None:
    assert format_ticks(np.array([-0.5, 0.0, 0.5, 1.0])) == ["-0.5", "0.0", "0.5", "1.0"]
    assert format_ticks(np.array([-10.0, 0.0, 10.0])) == ["-10", "0", "10"]


def _plot(cls: str = "none", seed: int = 0, i: int = 0, style: object = "r") -> np.ndarray:
    return np.asarray(make_plot(seed, cls, i, style))


def test_same_seed_same_pixels_other_seed_differs() -> None:
    a = _plot(seed=0)
    assert np.array_equal(a, _plot(seed=0))
    assert not np.array_equal(a, _plot(seed=1))
    assert not np.array_equal(a, _plot(i=1))


def test_r_image_size_mode_and_look() -> None:
    img = make_plot(0, "outlier", 0)
    assert img.mode == "RGB" and img.size == (480, 480)
    a = np.asarray(img).astype(int)
    assert a[0, 0].tolist() == [255, 255, 255]
    # box lines of R's plot region: x 59.04..449.76, y 59.04..406.56
    assert a[406, 100:400].max() < 100 and np.median(a[100:300, 449]) < 130 and a[30].min() == 255
    red = (a[..., 0] - a[..., 1] > 60) & (a[..., 0] - a[..., 2] > 60)
    assert red[59:407, 59:450].sum() > 100  # the lowess line
    assert not red[:59].any()
    dark = a.sum(axis=2) < 200
    assert dark[60:406, 60:449].mean() > 0.01  # the points
    assert dark[40:55, 150:350].any() and dark[450:480, 200:300].any()  # title and x labels


@pytest.mark.parametrize("cls", CLASSES)
def test_smoother_is_drawn_along_the_statsmodels_curve(cls: str) -> None:
    s, _ = simulate_plot(4, cls, 2)
    st = R_STYLE.replace(zero_line=False)  # R draws the grey zero line over the smoother
    a = render_array(s.fitted, s.residuals, st).astype(int)
    red = (a[..., 0] - a[..., 1] > 60) & (a[..., 0] - a[..., 2] > 60)
    ux0, ux1, uy0, uy1 = plot_limits(s.fitted, s.residuals)
    left, top, right, bottom = 59.04, 59.04, 449.76, 406.56
    fx, fy = lowess(s.fitted, s.residuals)
    cols = np.linspace(fx[0], fx[-1], 40)[1:-1]
    for xv, yv in zip(cols, np.interp(cols, fx, fy), strict=True):
        col = int(left + (xv - ux0) / (ux1 - ux0) * (right - left))
        row = bottom - (yv - uy0) / (uy1 - uy0) * (bottom - top)
        assert red[int(row) - 1 : int(row) + 3, col].any(), (xv, yv)
    plain = render_array(s.fitted, s.residuals, st.replace(smoother=False)).astype(int)
    assert not ((plain[..., 0] - plain[..., 1] > 60) & (plain[..., 0] - plain[..., 2] > 60)).any()


def test_loess_is_rs_loess() -> None:
    """ggplot2's curve: R 4.2's predict(loess(y ~ x, span = 0.75, degree = 2)) at 80 points across x."""
    x = np.arange(1.0, 31.0)
    gx, gy = loess(x, np.sin(x / 3) + (x % 7) / 10)
    assert len(gx) == LOESS_POINTS and gx[0] == 1.0 and gx[-1] == 30.0
    r = [1.0618803036, 0.4925291895, -0.4621593413, 0.9904206966, -0.2409392217]  # Rscript, 2026-12-04
    np.testing.assert_allclose(gy[[0, 19, 39, 59, 79]], r, atol=1e-8)


def test_loess_fits_a_parabola_lowess_bends_and_falls_back_on_a_factor() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, 300)
    gx, gy = loess(x, x**2)
    np.testing.assert_allclose(gy, gx**2, atol=1e-6)  # degree 2: exact on a parabola
    lx, ly = lowess(x, x**2)
    assert np.abs(ly - lx**2).max() > 0.1  # degree 1 is not
    factor, y = np.repeat([0.0, 1.0, 2.0], 50), rng.normal(size=150)
    np.testing.assert_array_equal(loess(factor, y)[1], lowess(factor, y)[1])


def test_unknown_smoother_method_is_named() -> None:
    s, _ = simulate_plot(0, "none", 0)
    with pytest.raises(ValueError, match=r"^style\.smoother_method: use one of lowess, loess, got 'spline'$"):
        render_array(s.fitted, s.residuals, R_STYLE.replace(smoother_method="spline"))


def test_points_are_open_circles() -> None:
    fitted = np.array([0.0, 10.0, 5.0])
    residuals = np.array([-1.0, 1.0, 0.0])
    a = render_array(fitted, residuals, R_STYLE.replace(smoother=False, zero_line=False, labels=False))
    # the middle point sits at the centre of the plot region: a ring with a light hole
    cx, cy = (59.04 + 449.76) / 2, (59.04 + 406.56) / 2
    patch = a[int(cy) - 5 : int(cy) + 6, int(cx) - 5 : int(cx) + 6].sum(axis=2)
    assert patch.min() < 300  # the ring is dark
    assert a[int(cy), int(cx)].sum() > 600  # the centre is (nearly) white


def test_custom_size_and_styles() -> None:
    img = make_plot(0, "biased", 0, {"width": 300, "height": 260, "marker": "dot", "grid": True})
    assert img.size == (300, 260) and img.mode == "RGB"
    for name in PRESETS:
        assert make_plot(0, "none", 3, name).mode == "RGB"


def test_varied_style_is_deterministic_and_varies() -> None:
    styles = [resolve_style("varied", simulate_plot(0, "none", i)[1]) for i in range(12)]
    again = [resolve_style("varied", simulate_plot(0, "none", i)[1]) for i in range(12)]
    assert styles == again
    assert len({(s.width, s.marker, s.point_color) for s in styles}) > 6
    for i in range(4):
        a = _plot("ceiling", 0, i, "varied")
        s = sample_style(simulate_plot(0, "ceiling", i)[1])
        assert a.shape == (s.height, s.width, 3)
        assert np.array_equal(a, _plot("ceiling", 0, i, "varied"))


def test_bad_style() -> None:
    with pytest.raises(ValueError, match="unknown style"):
        validate_style_option("excel")
    with pytest.raises(ValueError, match="unknown style field"):
        validate_style_option({"colour": "red"})
    with pytest.raises(ValueError, match="unknown style field"):
        Style().replace(nope=1)


def test_png_round_trips(tmp_path) -> None:
    a = _plot("outlier")
    buf = io.BytesIO()
    save_png(a, buf)
    save_png(Image.fromarray(a), tmp_path / "p.png.tmp")  # the generator's temp name: format explicit
    for src in (io.BytesIO(buf.getvalue()), tmp_path / "p.png.tmp"):
        img = Image.open(src)
        assert img.format == "PNG" and img.mode == "RGB" and np.array_equal(np.asarray(img), a)
