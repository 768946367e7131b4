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
    smoother_method: str = "lowess"
    """``lowess`` (R's, span 2/3, robust) or ``loess`` (ggplot2's ``geom_smooth()``: span 0.75, degree 2, whose
    ends swing where the points thin out)."""
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
    title_align: float = 0.5
    """Title position across the plot region: 0 left (ggplot2), 0.5 centred (R, matplotlib)."""
    band: bool = False
    """A confidence band around the smoother (ggplot2's ``geom_smooth(se = TRUE)``)."""
    band_color: RGB = (153, 153, 153)
    band_alpha: float = 0.4
    jpeg_quality: int = 0
    """Degradation: re-encode as JPEG at this quality (1-95); 0 = none."""
    rescale: float = 1.0
    """Degradation: shrink by this factor (box filter) and keep that size; 1 = none."""
    border: int = 0
    """Degradation: a screenshot's frame of this many px around the plot; 0 = none."""
    border_color: RGB = (240, 240, 240)

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

PRESETS["ggplot2"] = dict(
    marker="dot",
    marker_radius=1.9,
    point_color=(0, 0, 0),
    panel=(235, 235, 235),
    grid=True,
    grid_color=(255, 255, 255),
    grid_linewidth=1.0,
    box=False,
    axis_color=(235, 235, 235),
    tick_length=3.6,
    text_color=(77, 77, 77),
    smoother_color=(51, 102, 255),
    smoother_linewidth=1.5,
    band=True,
    zero_line_color=(0, 0, 0),
    zero_line_dash="dashed",
    labels=False,
    rotate_ytick_labels=False,
    font_size=11.0,
    sublabel="",
    title_align=0.0,
    margins=(3.2, 3.8, 2.4, 1.0),
)
"""ggplot2's ``theme_gray``: grey panel, white grid, no box, the smoother in blue with a grey band (R's lowess;
``smoother_method="loess"`` draws ggplot2's own curve)."""

VARIED_BASES = ("r", "matplotlib", "seaborn", "statsmodels")
"""The presets ``varied`` draws from (fixed, so that ``varied`` data sets stay the same)."""
GENERAL_BASES = ("r", "r", "ggplot2", "seaborn", "matplotlib", "statsmodels")
"""The presets ``general`` starts from (R twice: the default look and the most common upload)."""
PALETTE: tuple[RGB, ...] = (
    (0, 0, 0),
    (31, 119, 180),
    (76, 114, 176),
    (51, 51, 51),
    (214, 39, 40),
    (255, 127, 14),
    (51, 102, 255),
    (128, 128, 128),
    (44, 160, 44),
)
"""Colours plotting libraries use for points and lines (black, matplotlib/seaborn/ggplot2 blues, red, ...)."""


def _color(rng: np.random.Generator, dark: bool) -> RGB:
    lo, hi = (0, 110) if dark else (150, 255)
    return tuple(int(v) for v in rng.integers(lo, hi + 1, size=3))  # type: ignore[return-value]


def sample_style(rng: np.random.Generator, n: int | None = None) -> Style:
    """A random style: a random library preset, then random sizes, colours and toggles."""
    name = VARIED_BASES[int(rng.integers(len(VARIED_BASES)))]
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


def _choice(rng: np.random.Generator, options: tuple[Any, ...]) -> Any:
    return options[int(rng.integers(len(options)))]


def _palette_or_random(rng: np.random.Generator) -> RGB:
    return _choice(rng, PALETTE) if rng.random() < 0.75 else _color(rng, dark=True)


FADE_POINTS = 8.0
"""``general``: a plot of ``n`` points is never drawn with a point alpha below ``FADE_POINTS / sqrt(n)``
(n = 100: 0.8, 400: 0.4, 2,500: 0.16): analysts fade points when there are many, not when there are twenty."""


def sample_general_style(rng: np.random.Generator, n: int | None = None) -> Style:
    """The ``general`` style: what the common renderers draw, at the sizes and with the flaws of real uploads.

    Starts from one of :data:`GENERAL_BASES`, then draws a dpi-like scale (line widths, markers and text grow
    with it), an image size and aspect ratio (square, 4:3, 3:2, wide), filled or open markers with alpha,
    panel and grid (white, grey with a white grid, or white with a light grid), the smoother (none, a line,
    a line with a confidence band), zero line, ticks, titles, and the degradations of uploads: JPEG
    re-encoding, shrinking, a screenshot border. ``n``: the plot's number of points (:data:`FADE_POINTS`).
    """
    name = _choice(rng, GENERAL_BASES)
    base = R_STYLE.replace(**PRESETS[name])
    scale = float(_choice(rng, (1.0, 1.0, 1.33, 1.39, 1.5, 2.0))) * float(rng.uniform(0.85, 1.15))
    changes = _general_geometry(rng, base, scale, n)
    _general_panel(rng, base, changes)
    _general_annotations(rng, name, base, scale, changes)
    _general_degradations(rng, base, changes)
    return base.replace(**changes)


def _general_geometry(rng: np.random.Generator, base: Style, scale: float, n: int | None) -> dict[str, Any]:
    """Size, aspect, margins, fonts, markers and line widths, all grown by the dpi-like ``scale``."""
    width = int(np.clip(round(float(rng.uniform(300, 620)) * scale), 240, 1400))  # inches x dpi
    aspect = float(_choice(rng, (1.0, 1.0, 0.75, 0.75, 2 / 3, 0.625, 0.8))) * float(rng.uniform(0.93, 1.07))
    height = int(np.clip(round(width * aspect), 200, 1200))
    margins = tuple(float(m * rng.uniform(0.8, 1.25)) for m in base.margins)
    font = base.font_size * scale * float(rng.uniform(0.8, 1.2))
    room = min(width / (1.2 * (margins[1] + margins[3])), height / (1.2 * (margins[0] + margins[2])))
    font = float(min(font, 0.5 * room))
    r = rng.random()
    marker = "dot" if r < 0.55 else "circle" if r < 0.85 else _choice(rng, MARKERS)
    changes: dict[str, Any] = dict(
        width=width,
        height=height,
        margins=margins,
        font_size=font,
        label_font_size=font * float(rng.uniform(0.65, 0.9)),
        marker=marker,
        marker_radius=float(rng.uniform(0.8, 3.8)) * scale,
        marker_linewidth=float(rng.uniform(0.5, 1.3)) * scale,
        point_alpha=max(
            1.0 if rng.random() < 0.5 else float(rng.uniform(0.15, 0.9)),
            min(1.0, FADE_POINTS / np.sqrt(n)) if n else 0.0,
        ),
        axis_linewidth=float(rng.uniform(0.6, 1.3)) * scale,
        zero_linewidth=float(rng.uniform(0.6, 1.5)) * scale,
        smoother_linewidth=float(rng.uniform(0.75, 2.5)) * scale,
        grid_linewidth=float(rng.uniform(0.5, 1.5)) * scale,
    )
    if rng.random() < 0.3:
        changes["point_color"] = _palette_or_random(rng)
    return changes


def _general_panel(rng: np.random.Generator, base: Style, changes: dict[str, Any]) -> None:
    """The panel and grid: the base's, grey with a white grid, white with a light grid, or white."""
    panel = rng.random()
    if panel < 0.15:  # a grey panel with a white grid (ggplot2, seaborn darkgrid)
        changes.update(
            panel=_choice(rng, ((235, 235, 235), (234, 234, 242))), grid=True, grid_color=(255, 255, 255)
        )
        changes.update(box=False, axis_color=changes["panel"])
    elif panel < 0.3:  # white with a light grid (seaborn whitegrid, theme_bw, matplotlib grid)
        changes.update(
            panel=(255, 255, 255), grid=True, grid_color=_choice(rng, ((220, 220, 220), (235, 235, 235)))
        )
        changes.update(axis_color=base.axis_color if base.axis_color != base.panel else (0, 0, 0))
    elif panel < 0.4:  # white, no grid
        changes.update(panel=(255, 255, 255), grid=False)
        changes.update(axis_color=base.axis_color if base.axis_color != base.panel else (0, 0, 0))


def _general_annotations(
    rng: np.random.Generator, name: str, base: Style, scale: float, changes: dict[str, Any]
) -> None:
    """The smoother and its band, the zero line, tick labels, the box, ticks, the title and axis labels."""
    s = rng.random()
    smoother_on = s < 0.75 if name != "r" else s < 0.9
    changes["smoother"] = bool(smoother_on)
    changes["band"] = bool(smoother_on and rng.random() < (0.7 if name == "ggplot2" else 0.2))
    if rng.random() < 0.35:
        changes["smoother_color"] = _palette_or_random(rng)
    changes["zero_line"] = bool(rng.random() < 0.8)
    changes["zero_line_dash"] = _choice(rng, DASHES)
    if rng.random() < 0.3:
        changes["zero_line_color"] = _choice(
            rng, ((0, 0, 0), (128, 128, 128), (190, 190, 190), (214, 39, 40))
        )
    if name not in ("r", "statsmodels"):
        changes["labels"] = bool(rng.random() < 0.1)
    elif rng.random() < 0.3:
        changes["labels"] = False
    if rng.random() < 0.2:
        changes["box"] = not changes.get("box", base.box)
    changes["tick_length"] = float(_choice(rng, (base.tick_length, base.tick_length, -3.5, 0.0, 5.0))) * scale
    if rng.random() < 0.15:
        changes["rotate_ytick_labels"] = not base.rotate_ytick_labels
    if rng.random() < 0.35:
        changes["title"] = ""
    elif rng.random() < 0.3:
        changes["title"] = _choice(rng, ("Residual plot", "Residuals", "Residuals vs Fitted"))
    if rng.random() < 0.1:
        changes["title_align"] = 0.5 if base.title_align == 0.0 else 0.0
    if rng.random() < 0.3:
        changes["xlabel"] = _choice(rng, ("fitted", "Predicted", "Fitted", ".fitted", "y_hat"))
    if rng.random() < 0.2:
        changes["ylabel"] = _choice(rng, ("residuals", "Residual", ".resid"))
    if name == "r" and rng.random() < 0.3:
        changes["sublabel"] = ""


def _general_degradations(rng: np.random.Generator, base: Style, changes: dict[str, Any]) -> None:
    """What uploads suffer: a tinted background, JPEG re-encoding, shrinking, a screenshot border."""
    if rng.random() < 0.08:
        changes["background"] = _color(rng, dark=False)
        if base.panel == (255, 255, 255) and changes.get("panel", base.panel) == (255, 255, 255):
            changes["panel"] = changes["background"]
    if rng.random() < 0.25:
        changes["jpeg_quality"] = int(rng.integers(30, 96))
    if rng.random() < 0.2:
        changes["rescale"] = float(rng.uniform(0.45, 0.95))
    if rng.random() < 0.1:
        changes["border"] = int(rng.integers(4, 41))
        changes["border_color"] = _choice(
            rng, ((240, 240, 240), (255, 255, 255), (30, 30, 30), (222, 225, 230))
        )


def validate_style_option(option: Any) -> None:
    """Raise ValueError if ``option`` is not a valid ``style`` argument (checked before any work)."""
    if isinstance(option, str):
        if option not in RANDOM_STYLES and option not in PRESETS:
            raise ValueError(
                f"style: unknown style {option!r}; use r, varied, general, {', '.join(PRESETS)} or a dict"
            )
        return
    if isinstance(option, dict):
        overrides = dict(option)
        base = overrides.pop("base", "r")
        validate_style_option(base)
        R_STYLE.replace(**overrides)
        return
    raise ValueError(f"style: expected a name or a dict, got {type(option).__name__}")


RANDOM_STYLES = {"varied": sample_style, "general": sample_general_style}
"""Styles drawn per plot from the plot's own rng."""


def resolve_style(option: Any, rng: np.random.Generator | None = None, n: int | None = None) -> Style:
    """The Style for one plot. ``rng`` (the plot's own generator) is needed for ``varied`` and ``general``;
    ``n``, the plot's number of points, keeps ``general``'s points visible on small plots."""
    if isinstance(option, Style):
        return option
    if isinstance(option, str):
        if option in RANDOM_STYLES:
            if rng is None:
                raise ValueError(f"style: {option!r} needs the plot's rng")
            return RANDOM_STYLES[option](rng, n)
        if option not in PRESETS:
            raise ValueError(f"style: unknown style {option!r}")
        return R_STYLE.replace(**PRESETS[option])
    if isinstance(option, dict):
        overrides = dict(option)
        base = resolve_style(overrides.pop("base", "r"), rng, n)
        return base.replace(**overrides)
    raise ValueError(f"style: expected a name or a dict, got {type(option).__name__}")


__all__ = [
    "DASHES",
    "MARKERS",
    "PRESETS",
    "R_STYLE",
    "RANDOM_STYLES",
    "Style",
    "resolve_style",
    "sample_general_style",
    "sample_style",
    "validate_style_option",
]
