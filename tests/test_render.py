"""The renderer: R's lowess, pretty ticks, determinism, sizes and styles."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from statsmodels.nonparametric.smoothers_lowess import lowess as sm_lowess

from plotlstm.generate import make_plot
from plotlstm.render import encode_png, format_ticks, lowess, lowess_full, pretty, render_array
from plotlstm.simulate import CLASSES, simulate_plot
from plotlstm.style import PRESETS, R_STYLE, Style, resolve_style, sample_style, validate_style_option


@pytest.mark.parametrize("cls", CLASSES)
def test_lowess_matches_statsmodels(cls: str) -> None:
    s, _ = simulate_plot(4, cls, 2)
    x, y = s.fitted, s.residuals
    ref = sm_lowess(y, x, frac=2 / 3, it=3, delta=0.01 * np.ptp(x))
    xs, exact = lowess_full(x, y)
    np.testing.assert_array_equal(xs, ref[:, 0])
    assert np.max(np.abs(exact - ref[:, 1])) < 1e-6 * np.std(y)
    _, binned = lowess_full(x, y, bins=1024)
    assert np.max(np.abs(binned - ref[:, 1])) < 2e-3 * np.std(y)
    fx, fy = lowess(x, y)  # the fit points draw the same curve
    np.testing.assert_allclose(np.interp(ref[:, 0], fx, fy), ref[:, 1], atol=2e-3 * np.std(y))


def test_lowess_small_and_tied() -> None:
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(0, 10, 150), 0)  # many ties
    y = np.sin(x) + rng.normal(0, 0.3, 150)
    ref = sm_lowess(y, x, frac=2 / 3, it=3, delta=0.1)
    _, ours = lowess_full(x, y, delta=0.1)
    np.testing.assert_allclose(ours, ref[:, 1], atol=1e-8)


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


def test_png_writer_round_trips() -> None:
    a = _plot("outlier")
    img = Image.open(io.BytesIO(encode_png(a)))
    assert img.mode == "RGB" and np.array_equal(np.asarray(img), a)
