"""Simulate one data set per plot, as in the reference README, and fit the OLS model.

Every simulated data set depends only on ``(seed, class, index)`` (and, for the two classes beyond the
original four, on their :class:`SpoilParams`): the random generator is
``numpy.random.default_rng(SeedSequence([seed, class_code, index]))`` where ``class_code`` is the
class's position in :data:`CLASSES` (stable, independent of which classes a data set uses).

The rng's first draws are the plot's header: ``n``, the number of predictors, the number of controls
and, for ``heteroskedastic`` and ``nonlinear``, the kind (of fan or curve) and the strength
(:func:`draw_header`), so the manifest reads them without simulating. ``n`` is drawn as the reference does
(uniform in 100..10,000) unless a :class:`SampleSize` says otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

CLASSES: tuple[str, ...] = ("none", "biased", "outlier", "ceiling", "heteroskedastic", "nonlinear")
"""All classes the generator knows, in their canonical order (the order fixes the seeds)."""
ORIGINAL_CLASSES: tuple[str, ...] = CLASSES[:4]
"""The reference's four classes."""

N_RANGE = (100, 10_000)
"""The reference's sample size range (uniform): the default."""
N_SCALES = ("uniform", "log")
N_LIMITS = (10, 1_000_000)
"""What ``n_range`` may ask for: low >= 10 (the design has up to 1 + 4 + 4 = 9 columns), high <= 1,000,000."""
PREDICTOR_RANGE = (2, 4)
CONTROL_RANGE = (2, 4)
OUTLIER_COUNT = 3
OUTLIER_SHIFT_SD = 8.0
CEILING_QUANTILE = 0.92
FAN_QUANTILES = (0.05, 0.95)
"""heteroskedastic: the noise sd ramps between these quantiles of the signal mu (constant outside)."""
CURVE_QUANTILES = (0.005, 0.995)
"""nonlinear: the span of the signal over which the curve's height is measured (t = 0 and 1 there)."""

KINDS: dict[str, tuple[str, ...]] = {
    "heteroskedastic": ("fan_right", "fan_left", "bow_tie"),
    "nonlinear": ("u", "inverted_u", "s"),
}
"""The kinds of fan and curve; a plot's kind is drawn uniformly from its class's kinds."""
STRENGTH: dict[str, tuple[float, float]] = {"heteroskedastic": (3.0, 8.0), "nonlinear": (2.0, 6.0)}
"""Default strength ranges (uniform): heteroskedastic, the ratio of the widest to the narrowest noise sd;
nonlinear, the curve's height (peak to peak over the signal's span) in noise sds."""
STRENGTH_LIMITS: dict[str, tuple[float, float]] = {"heteroskedastic": (1.0, 100.0), "nonlinear": (0.0, 100.0)}
"""What a strength range may ask for: low > first (a ratio of 1 or a height of 0 is no spoiling), high <= second."""


@dataclass(frozen=True)
class SpoilParams:
    """How a new class spoils its data: the kinds to draw from and the strength range."""

    kinds: tuple[str, ...]
    strength: tuple[float, float]


DEFAULT_PARAMS: dict[str, SpoilParams] = {c: SpoilParams(KINDS[c], STRENGTH[c]) for c in KINDS}


@dataclass(frozen=True)
class SampleSize:
    """How a plot's sample is drawn: its size ``n`` from ``low..high`` (inclusive), uniformly or log-uniformly,
    and, for a share ``design_mix`` of the plots, its design and violation from the families of
    :mod:`plotlstm.synth.designs` instead of the reference's process (0: the reference's only)."""

    low: int = N_RANGE[0]
    high: int = N_RANGE[1]
    scale: str = "uniform"
    design_mix: float = 0.0

    def draw(self, rng: np.random.Generator) -> int:
        """``uniform``: ``rng.integers(low, high + 1)``, the reference's draw; ``log``: ``exp`` of a uniform draw
        between ``log low`` and ``log high``, rounded and clipped into the range (as many plots of 20 to 200 points
        as of 1,000 to 10,000)."""
        if self.scale == "uniform":
            return int(rng.integers(self.low, self.high + 1))
        n = round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return min(max(n, self.low), self.high)


DEFAULT_SAMPLE_SIZE = SampleSize()


@dataclass(frozen=True)
class Simulation:
    """One simulated data set and its OLS fit (arrays have length ``n``)."""

    cls: str
    n: int
    predictors: int
    controls: int
    y: np.ndarray
    """Final (spoiled, shifted) response."""
    y_clean: np.ndarray
    """Response before spoiling, shifted by the same constant as ``y``."""
    s: float
    """Standard deviation of the signal ``mu``."""
    fitted: np.ndarray
    residuals: np.ndarray
    cap: float | None = None
    """The ceiling (92nd percentile, after the shift) for class ``ceiling``, else None."""
    outliers: np.ndarray | None = None
    """Row indices (0-based) of the spoiled observations for class ``outlier``, else None."""
    kind: str | None = None
    """Kind of fan (``heteroskedastic``) or curve (``nonlinear``), else None."""
    strength: float | None = None
    """Strength of the fan or curve (see :data:`STRENGTH`), else None."""
    design: np.ndarray | None = None
    """The fitted model's design matrix, ``n x (1 + predictors + controls)``: intercept, predictors, controls."""


@dataclass(frozen=True)
class Header:
    """The first draws of a plot's rng: its shape and, for the new classes, kind and strength."""

    n: int
    predictors: int
    controls: int
    kind: str | None = None
    strength: float | None = None


def class_code(cls: str) -> int:
    """Stable integer code of a class name (its index in :data:`CLASSES`)."""
    try:
        return CLASSES.index(cls)
    except ValueError:
        raise ValueError(f"unknown class {cls!r}; expected one of {', '.join(CLASSES)}") from None


def check_params(params: Mapping[str, Any] | None) -> dict[str, SpoilParams]:
    """Validate ``{class: {kinds: [...], strength: [low, high]}}`` (either key optional) against the defaults.

    Returns the parameters of every class in :data:`KINDS`; raises ValueError naming the field.
    """
    out = dict(DEFAULT_PARAMS)
    if params is None:
        return out
    if not isinstance(params, Mapping):
        raise ValueError(f"class_params: expected a mapping class -> {{kinds, strength}}, got {params!r}")
    for cls, given in params.items():
        if cls not in KINDS:
            raise ValueError(f"class_params: {cls!r} has no parameters; only {', '.join(KINDS)} have")
        field = f"class_params.{cls}"
        if not isinstance(given, Mapping):
            raise ValueError(f"{field}: expected a mapping with kinds and/or strength, got {given!r}")
        unknown = sorted(set(given) - {"kinds", "strength"})
        if unknown:
            raise ValueError(
                f"{field}: unknown key(s) {', '.join(map(str, unknown))}; expected kinds, strength"
            )
        kinds = _check_kinds(f"{field}.kinds", given.get("kinds", KINDS[cls]), KINDS[cls])
        strength = _check_strength(f"{field}.strength", given.get("strength", STRENGTH[cls]), cls)
        out[cls] = SpoilParams(kinds, strength)
    return out


def check_sample_size(n_range: Any = N_RANGE, n_scale: Any = "uniform", design_mix: Any = 0.0) -> SampleSize:
    """Validate ``n_range`` (``[low, high]``, whole numbers), ``n_scale`` (``uniform`` or ``log``) and
    ``design_mix`` (a share in [0, 1]).

    Returns the :class:`SampleSize`; raises ValueError naming the field.
    """
    ok = (
        isinstance(n_range, list | tuple)
        and len(n_range) == 2
        and all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in n_range)
    )
    if not ok:
        raise ValueError(f"n_range: expected [low, high] (whole numbers), got {n_range!r}")
    lo, hi = int(n_range[0]), int(n_range[1])
    if lo < N_LIMITS[0]:
        raise ValueError(
            f"n_range: low {lo} is below {N_LIMITS[0]} (the design has up to 9 columns: intercept, "
            "4 predictors, 4 controls)"
        )
    if lo > hi:
        raise ValueError(f"n_range: [{lo}, {hi}] has low > high")
    if hi > N_LIMITS[1]:
        raise ValueError(f"n_range: high {hi:,} is above {N_LIMITS[1]:,}")
    if not isinstance(n_scale, str) or n_scale not in N_SCALES:
        raise ValueError(f"n_scale: unknown scale {n_scale!r}; use one of {', '.join(N_SCALES)}")
    if isinstance(design_mix, bool) or not isinstance(design_mix, int | float) or not 0 <= design_mix <= 1:
        raise ValueError(f"design_mix: a share of plots in [0, 1], got {design_mix!r}")
    return SampleSize(lo, hi, n_scale, float(design_mix))


def _check_kinds(field: str, kinds: Any, valid: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(kinds, str) or not isinstance(kinds, list | tuple) or not kinds:
        raise ValueError(f"{field}: expected a non-empty list of some of {', '.join(valid)}, got {kinds!r}")
    for kind in kinds:
        if kind not in valid:
            raise ValueError(f"{field}: unknown kind {kind!r}; expected some of {', '.join(valid)}")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"{field}: {list(kinds)} names a kind twice")
    return tuple(kinds)


def _check_strength(field: str, strength: Any, cls: str) -> tuple[float, float]:
    lo_limit, hi_limit = STRENGTH_LIMITS[cls]
    ok = (
        isinstance(strength, list | tuple)
        and len(strength) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in strength)
    )
    if not ok:
        raise ValueError(f"{field}: expected [low, high] (numbers), got {strength!r}")
    lo, hi = float(strength[0]), float(strength[1])
    if not (lo_limit < lo <= hi <= hi_limit):
        raise ValueError(
            f"{field}: [{lo:g}, {hi:g}] is out of range; need {lo_limit:g} < low <= high <= {hi_limit:g}"
        )
    return lo, hi


def plot_rng(seed: int, cls: str, index: int) -> np.random.Generator:
    """The random generator of plot ``index`` of class ``cls`` (independent of everything else)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), class_code(cls), int(index)]))


def draw_header(
    cls: str,
    rng: np.random.Generator,
    params: Mapping[str, SpoilParams] | None = None,
    sample: SampleSize | None = None,
) -> Header:
    """The rng's first draws: n, predictors, controls, then (new classes only) kind and strength.

    ``sample``: how n is drawn (default: uniform in :data:`N_RANGE`, the reference's draw)."""
    n = sample.draw(rng) if sample is not None else int(rng.integers(N_RANGE[0], N_RANGE[1] + 1))
    k = int(rng.integers(PREDICTOR_RANGE[0], PREDICTOR_RANGE[1] + 1))
    m = int(rng.integers(CONTROL_RANGE[0], CONTROL_RANGE[1] + 1))
    if cls not in KINDS:
        return Header(n, k, m)
    spoil = (params or DEFAULT_PARAMS)[cls]
    kind = spoil.kinds[int(rng.integers(len(spoil.kinds)))]
    strength = float(rng.uniform(spoil.strength[0], spoil.strength[1]))
    return Header(n, k, m, kind, strength)


def signal_position(mu: np.ndarray, quantiles: tuple[float, float]) -> np.ndarray:
    """Where each signal value lies in the signal's span: ``t = 0`` and ``t = 1`` at these quantiles of mu."""
    lo, hi = np.quantile(mu, quantiles)
    return (mu - lo) / (hi - lo)


def noise_scale(kind: str, strength: float, t: np.ndarray) -> np.ndarray:
    """The heteroskedastic noise sd per row, in units of s: ``1 + (strength - 1) * w(t)``, RMS 1.

    ``w`` is ``t`` (fan opening to the right), ``1 - t`` (to the left) or ``|2 t - 1|`` (bow-tie), with
    ``t`` clipped to [0, 1]: the widest sd is ``strength`` times the narrowest.
    """
    t = np.clip(t, 0.0, 1.0)
    w = {"fan_right": t, "fan_left": 1.0 - t, "bow_tie": np.abs(2.0 * t - 1.0)}[kind]
    scale = 1.0 + (strength - 1.0) * w
    return scale / np.sqrt(np.mean(scale**2))


def curve(kind: str, t: np.ndarray) -> np.ndarray:
    """The unmodelled curvature, height 1 (peak to peak) over the signal's span, in ``v = 2 t - 1``.

    ``u``: ``v**2``; ``inverted_u``: ``-v**2``; ``s``: ``sin(pi v) / 2`` (one full wave over the span:
    once the fit has taken its straight-line part, the residuals go up, down, up, down from left to right).
    """
    v = 2.0 * t - 1.0
    if kind == "u":
        return v**2
    if kind == "inverted_u":
        return -(v**2)
    return np.sin(np.pi * v) / 2.0


def simulate(
    cls: str,
    rng: np.random.Generator,
    params: Mapping[str, SpoilParams] | None = None,
    sample: SampleSize | None = None,
) -> Simulation:
    """Simulate one data set of class ``cls`` with ``rng`` and fit ``y ~ predictors + controls``.

    ``params``: the new classes' kinds and strength ranges (:func:`check_params`; default
    :data:`DEFAULT_PARAMS`). ``sample``: how n is drawn (:func:`check_sample_size`; default the reference's).
    """
    code = class_code(cls)
    header = draw_header(cls, rng, params, sample)
    n, k, m = header.n, header.predictors, header.controls

    p = rng.uniform(0.2, 0.8, size=m)
    controls = (rng.random((n, m)) < p).astype(np.float64)
    which = rng.integers(0, m, size=k)
    scale = rng.uniform(0.1, 1.0, size=k)
    predictors = rng.standard_normal((n, k)) * (1.0 + controls[:, which]) * scale

    x_sum = predictors.sum(axis=1)
    b_prod = controls.prod(axis=1)
    mu = x_sum + b_prod + x_sum * b_prod
    s = float(mu.std(ddof=1))

    if code == 1:  # biased: log-normal noise, log-mean max(1, log mu) (1 where mu <= 0), log-sd 1
        with np.errstate(divide="ignore", invalid="ignore"):
            log_mu = np.log(np.where(mu > 0, mu, 1.0))
        meanlog = np.where(mu > 0, np.maximum(1.0, log_mu), 1.0)
        noise = np.exp(meanlog + rng.standard_normal(n))
    elif cls == "heteroskedastic":  # noise sd s * noise_scale(kind, strength, t(mu))
        assert header.kind is not None and header.strength is not None
        noise = (
            s
            * noise_scale(header.kind, header.strength, signal_position(mu, FAN_QUANTILES))
            * rng.standard_normal(n)
        )
    else:
        noise = rng.normal(0.0, s, size=n)
    if cls == "nonlinear":  # an unmodelled curve of the signal, strength noise sds high
        assert header.kind is not None and header.strength is not None
        noise = noise + header.strength * s * curve(header.kind, signal_position(mu, CURVE_QUANTILES))
    y0 = mu + noise
    y = y0.copy()

    cap = None
    outliers = None
    if code == 2:  # outlier: 3 random observations get |y| + 8 s
        outliers = np.sort(rng.choice(n, size=OUTLIER_COUNT, replace=False))
        y[outliers] = np.abs(y[outliers]) + OUTLIER_SHIFT_SD * s
    elif code == 3:  # ceiling: cap at the 92nd percentile
        cap = float(np.quantile(y, CEILING_QUANTILE))
        y = np.minimum(y, cap)

    shift = 1.0 - float(y.min())
    y += shift
    y_clean = y0 + shift
    if cap is not None:
        cap += shift

    design = np.empty((n, 1 + k + m))
    design[:, 0] = 1.0
    design[:, 1 : 1 + k] = predictors
    design[:, 1 + k :] = controls
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    fitted = design @ beta
    residuals = y - fitted
    return Simulation(
        cls=cls,
        n=n,
        predictors=k,
        controls=m,
        y=y,
        y_clean=y_clean,
        s=s,
        fitted=fitted,
        residuals=residuals,
        cap=cap,
        outliers=outliers,
        kind=header.kind,
        strength=header.strength,
        design=design,
    )


def simulate_plot(
    seed: int,
    cls: str,
    index: int,
    params: Mapping[str, SpoilParams] | None = None,
    sample: SampleSize | None = None,
) -> tuple[Simulation, np.random.Generator]:
    """Simulate plot ``index`` of class ``cls``; also return its rng (for style sampling)."""
    rng = plot_rng(seed, cls, index)
    return simulate(cls, rng, params, sample), rng
