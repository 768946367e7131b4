"""Simulate one data set per plot, as in the reference README, and fit the OLS model.

Every simulated data set depends only on ``(seed, class, index)``: the random generator is
``numpy.random.default_rng(SeedSequence([seed, class_code, index]))`` where ``class_code`` is the
class's position in :data:`CLASSES` (stable, independent of which classes a data set uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES: tuple[str, ...] = ("none", "biased", "outlier", "ceiling")
"""All classes the generator knows, in their canonical order (the order fixes the seeds)."""

N_RANGE = (100, 10_000)
PREDICTOR_RANGE = (2, 4)
CONTROL_RANGE = (2, 4)
OUTLIER_COUNT = 3
OUTLIER_SHIFT_SD = 8.0
CEILING_QUANTILE = 0.92


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


def class_code(cls: str) -> int:
    """Stable integer code of a class name (its index in :data:`CLASSES`)."""
    try:
        return CLASSES.index(cls)
    except ValueError:
        raise ValueError(f"unknown class {cls!r}; expected one of {', '.join(CLASSES)}") from None


def plot_rng(seed: int, cls: str, index: int) -> np.random.Generator:
    """The random generator of plot ``index`` of class ``cls`` (independent of everything else)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), class_code(cls), int(index)]))


def simulate(cls: str, rng: np.random.Generator) -> Simulation:
    """Simulate one data set of class ``cls`` with ``rng`` and fit ``y ~ predictors + controls``."""
    code = class_code(cls)
    n = int(rng.integers(N_RANGE[0], N_RANGE[1] + 1))
    k = int(rng.integers(PREDICTOR_RANGE[0], PREDICTOR_RANGE[1] + 1))
    m = int(rng.integers(CONTROL_RANGE[0], CONTROL_RANGE[1] + 1))

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
    else:
        noise = rng.normal(0.0, s, size=n)
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
    )


def simulate_plot(seed: int, cls: str, index: int) -> tuple[Simulation, np.random.Generator]:
    """Simulate plot ``index`` of class ``cls``; also return its rng (for style sampling)."""
    rng = plot_rng(seed, cls, index)
    return simulate(cls, rng), rng
