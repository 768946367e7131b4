"""Plot styles: the fixed R look (``"r"``) and per-plot random variation (``"varied"``).

A :class:`Style` is a frozen dataclass of drawing parameters. :func:`resolve_style` turns the
generator's ``style`` option (``"r"``, ``"varied"``, a preset name or a dict of field overrides,
optionally with ``base: <preset>`` or ``base: varied``) into a Style for one plot; ``varied`` draws
from the plot's own rng, so a plot's look depends only on (seed, class, index).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

RGB = tuple[int, int, int]
MARKERS = ("circle", "dot", "ring", "cross", "plus", "square")
DASHES = ("solid", "dotted", "dashed")


@dataclass(frozen=True)
class Style:
    """Everything the renderer needs to know about the look of a plot (pixels at 72 dpi)."""

    width: int = 480
    height: int = 480
    background: RGB = (255, 255, 255)
    panel: RGB = (255, 255, 255)
    """Fill of the plotting region (seaborn's grey is (234, 234, 242))."""
    font_size: float = 12.0
    """Axis, title and axis-label text height in px (R: ps 12 on a 72 dpi png)."""
    label_font_size: float = 9.0
    """Size of the row-number labels of the largest residuals (R: cex 0.75)."""
    font: str = "DejaVuSans.ttf"
    text_color: RGB = (0, 0, 0)
    margins: tuple[float, float, float, float] = (5.1, 4.1, 4.1, 2.1)
    """Bottom, left, top, right margins in text lines (a line is 1.2 font sizes), as R's ``mar``."""
    marker: str = "circle"
    marker_radius: float = 2.7
    marker_linewidth: float = 0.75
    point_color: RGB = (0, 0, 0)
    point_alpha: float = 1.0
    smoother: bool = True
    smoother_color: RGB = (255, 0, 0)
    smoother_linewidth: float = 0.75
    zero_line: bool = True
    zero_line_color: RGB = (190, 190, 190)
    zero_line_dash: str = "dotted"
    zero_linewidth: float = 0.75
    labels: bool = True
    """Label the three largest absolute residuals with their 1-based row numbers."""
    title: str = "Residuals vs Fitted"
    xlabel: str = "Fitted values"
    sublabel: str = "lm(y ~ .)"
    ylabel: str = "Residuals"
    box: bool = True
    """Full box around the plot region; False draws only the left and bottom axes."""
    axis_color: RGB = (0, 0, 0)
    axis_linewidth: float = 0.75
    tick_length: float = 7.2
    """Tick length in px; positive points outwards (R), negative inwards."""
    rotate_ytick_labels: bool = True
    """R's default las=0: y tick labels parallel to the axis (vertical)."""
    grid: bool = False
    grid_color: RGB = (220, 220, 220)
    grid_linewidth: float = 0.75
    ticks: bool = True

    def replace(self, **changes: Any) -> Style:
        """A copy with some fields changed (unknown names raise ValueError)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown style field(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})


def _coerce(name: str, value: Any) -> Any:
    """Turn lists (from YAML/JSON) into tuples so styles stay hashable."""
    if isinstance(value, list):
        return tuple(value)
    return value


R_STYLE = Style()

PRESETS: dict[str, dict[str, Any]] = {
    "r": {},
    "matplotlib": dict(
        marker="dot",
        marker_radius=3.0,
        point_color=(31, 119, 180),
        smoother_color=(255, 127, 14),
        smoother_linewidth=1.5,
        zero_line_color=(128, 128, 128),
        zero_line_dash="dashed",
        labels=False,
        box=True,
        rotate_ytick_labels=False,
        tick_length=3.5,
        font_size=10.0,
        title="Residuals vs Fitted",
        sublabel="",
        margins=(4.0, 5.5, 3.0, 1.5),
    ),
    "seaborn": dict(
        marker="dot",
        marker_radius=3.0,
        point_color=(76, 114, 176),
        point_alpha=0.8,
        panel=(234, 234, 242),
        grid=True,
        grid_color=(255, 255, 255),
        grid_linewidth=1.0,
        box=False,
        axis_color=(234, 234, 242),
        tick_length=0.0,
        smoother_color=(221, 132, 82),
        smoother_linewidth=1.5,
        zero_line_color=(100, 100, 100),
        zero_line_dash="dashed",
        labels=False,
        rotate_ytick_labels=False,
        font_size=11.0,
        sublabel="",
        margins=(4.0, 5.5, 3.0, 1.5),
    ),
    "statsmodels": dict(
        marker="circle",
        marker_radius=3.5,
        marker_linewidth=1.0,
        point_color=(31, 119, 180),
        smoother=True,
        smoother_color=(214, 39, 40),
        smoother_linewidth=1.5,
        zero_line_color=(0, 0, 0),
        zero_line_dash="solid",
        labels=True,
        rotate_ytick_labels=False,
        tick_length=3.5,
        font_size=10.0,
        sublabel="",
        margins=(4.0, 5.5, 3.0, 1.5),
    ),
}
"""Field overrides of the R style that imitate other plotting libraries."""


def _color(rng: np.random.Generator, dark: bool) -> RGB:
    lo, hi = (0, 110) if dark else (150, 255)
    return tuple(int(v) for v in rng.integers(lo, hi + 1, size=3))  # type: ignore[return-value]


def sample_style(rng: np.random.Generator) -> Style:
    """A random style: a random library preset, then random sizes, colours and toggles."""
    name = list(PRESETS)[int(rng.integers(len(PRESETS)))]
    base = R_STYLE.replace(**PRESETS[name])
    size = int(rng.integers(360, 641))
    aspect = float(rng.uniform(0.8, 1.25)) if rng.random() < 0.3 else 1.0
    font = float(rng.uniform(9.0, 14.0))
    light_bg = rng.random() < 0.85
    background = (255, 255, 255) if light_bg else _color(rng, dark=False)
    changes: dict[str, Any] = dict(
        width=size,
        height=int(np.clip(round(size * aspect), 320, 720)),
        font_size=font,
        label_font_size=font * float(rng.uniform(0.65, 0.9)),
        marker=MARKERS[int(rng.integers(len(MARKERS)))] if rng.random() < 0.5 else base.marker,
        marker_radius=float(rng.uniform(1.5, 4.5)),
        marker_linewidth=float(rng.uniform(0.6, 1.5)),
        point_alpha=float(rng.uniform(0.4, 1.0)) if rng.random() < 0.3 else base.point_alpha,
        smoother=bool(rng.random() < 0.8),
        smoother_linewidth=float(rng.uniform(0.75, 2.5)),
        zero_line=bool(rng.random() < 0.8),
        zero_line_dash=DASHES[int(rng.integers(len(DASHES)))],
        labels=bool(rng.random() < 0.5),
        grid=bool(rng.random() < 0.3) or base.grid,
        axis_linewidth=float(rng.uniform(0.6, 1.5)),
        rotate_ytick_labels=bool(rng.random() < 0.5),
    )
    if rng.random() < 0.3:
        changes["point_color"] = _color(rng, dark=True)
    if rng.random() < 0.3:
        changes["smoother_color"] = _color(rng, dark=True)
    if not light_bg and base.panel == (255, 255, 255):
        changes["background"] = background
        changes["panel"] = background
    if rng.random() < 0.3:
        changes["title"] = ""
    if rng.random() < 0.3:
        changes["sublabel"] = ""
    return base.replace(**changes)


def validate_style_option(option: Any) -> None:
    """Raise ValueError if ``option`` is not a valid ``style`` argument (checked before any work)."""
    if isinstance(option, str):
        if option != "varied" and option not in PRESETS:
            raise ValueError(
                f"style: unknown style {option!r}; use r, varied, {', '.join(PRESETS)} or a dict"
            )
        return
    if isinstance(option, dict):
        overrides = dict(option)
        base = overrides.pop("base", "r")
        validate_style_option(base)
        R_STYLE.replace(**overrides)
        return
    raise ValueError(f"style: expected a name or a dict, got {type(option).__name__}")


def resolve_style(option: Any, rng: np.random.Generator | None = None) -> Style:
    """The Style for one plot. ``rng`` (the plot's own generator) is needed for ``varied``."""
    if isinstance(option, Style):
        return option
    if isinstance(option, str):
        if option == "varied":
            if rng is None:
                raise ValueError("style: 'varied' needs the plot's rng")
            return sample_style(rng)
        if option not in PRESETS:
            raise ValueError(f"style: unknown style {option!r}")
        return R_STYLE.replace(**PRESETS[option])
    if isinstance(option, dict):
        overrides = dict(option)
        base = resolve_style(overrides.pop("base", "r"), rng)
        return base.replace(**overrides)
    raise ValueError(f"style: expected a name or a dict, got {type(option).__name__}")


__all__ = [
    "DASHES",
    "MARKERS",
    "PRESETS",
    "R_STYLE",
    "Style",
    "resolve_style",
    "sample_style",
    "validate_style_option",
]
