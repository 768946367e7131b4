"""Null plots: residual plots of the user's own fit drawn under a correct model (visual inference, Buja et al.
2009), so that a verdict can be a test whose false-alarm rate is known on any design and at any n.

- Linear fits (statsmodels OLS and WLS, scikit-learn linear estimators given ``X``): **residual rotation**.
  Draw ``e* ~ N(0, 1)``, take its residuals from a regression on the model's own (whitened) design, scale them
  to the fit's residual sum of squares. The refit's fitted values are the fit's own, exactly (the rotated
  residuals are orthogonal to the design), so a null plot is ``(fitted, r*)``. Under normal errors ``r*`` and
  the real residuals have the same distribution given the RSS: the test is exact.
- ``fitted=``/``residuals=`` only: the same on the design ``[1, fitted]`` (the design is approximated).
- statsmodels GLMs: **parametric bootstrap**: responses simulated from the fitted family and refitted.
- Anything else has no null model: :func:`null_model` says why in one line.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

NullDraw = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
"""One null plot's (fitted, residuals), from an rng."""


@dataclass(frozen=True)
class NullModel:
    """How to draw null plots of one fit: ``draw(rng)``, and ``design``, in words, for the result."""

    draw: NullDraw
    design: str


class NoNullModel(ValueError):
    """A fit whose null plots cannot be drawn; the message says why, in one line."""


def _independent(x: np.ndarray) -> np.ndarray:
    """Q of a thin QR of ``x``, restricted to its linearly independent columns (rank-deficient designs happen:
    dummy traps, constant columns)."""
    q, r = np.linalg.qr(x)
    diag = np.abs(np.diag(r))
    keep = diag > 1e-10 * max(float(diag.max(initial=0.0)), 1.0)
    return q[:, keep]


def rotation(
    fitted: np.ndarray, residuals: np.ndarray, design: np.ndarray, weights: Any, words: str
) -> NullModel:
    """Residual rotation of a linear fit with ``design`` (n x p) and weights (scalar or n) of its rows."""
    n = len(residuals)
    w = np.sqrt(np.broadcast_to(np.asarray(weights, dtype=float), (n,)))
    q = _independent(design * w[:, None])
    p = q.shape[1]
    if n <= p + 2:
        raise NoNullModel(f"{n} observations for {p} design columns: too few for null plots (need n > p + 2)")
    unit = float(np.max(np.abs(residuals * w))) or 1.0  # in units of the largest residual: no overflow
    root_rss = unit * float(np.sqrt(np.sum((residuals * w / unit) ** 2)))

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        e = rng.standard_normal(n)
        e -= q @ (q.T @ e)
        norm = float(np.sqrt(np.sum(e**2)))
        return fitted, (e / norm * root_rss if norm > 0 else 0.0 * e) / w

    return NullModel(draw, words)


def _simulate_family(
    family: Any, mu: np.ndarray, scale: float, rng: np.random.Generator, model: Any
) -> np.ndarray:
    """A response drawn from a fitted GLM family with mean ``mu``."""
    from statsmodels.genmod import families

    if isinstance(family, families.Gaussian):
        return rng.normal(mu, np.sqrt(scale))
    if isinstance(family, families.Poisson):
        return rng.poisson(mu).astype(float)
    if isinstance(family, families.Binomial):
        trials = np.asarray(getattr(model, "n_trials", 1), dtype=float)
        p = np.clip(mu, 0.0, 1.0)
        return rng.binomial(trials.astype(int), p) / trials
    if isinstance(family, families.Gamma):
        shape = 1.0 / scale
        return rng.gamma(shape, mu / shape)
    if isinstance(family, families.InverseGaussian):
        return rng.wald(mu, 1.0 / scale)
    if isinstance(family, families.NegativeBinomial):
        size = 1.0 / family.alpha
        return rng.negative_binomial(size, size / (size + mu)).astype(float)
    raise NoNullModel(f"no parametric bootstrap for the {type(family).__name__} family")


def glm_bootstrap(results: Any) -> NullModel:
    """Parametric bootstrap of a statsmodels GLM: responses from the fitted family, refitted the same way."""
    import statsmodels.api as sm

    model = results.model
    if getattr(model, "freq_weights", None) is not None and np.any(np.asarray(model.freq_weights) != 1):
        raise NoNullModel("a GLM with frequency weights has no null plots here")
    mu = np.asarray(results.mu, dtype=float)
    exog = np.asarray(model.exog, dtype=float)
    family, scale = model.family, float(results.scale)
    _simulate_family(family, mu, scale, np.random.default_rng(0), model)  # refuses an unknown family now
    extra = {k: getattr(model, k) for k in ("offset", "exposure") if getattr(model, k, None) is not None}
    if extra.get("exposure") is not None:
        extra["exposure"] = np.exp(extra["exposure"])  # statsmodels keeps log(exposure)
    var_weights = getattr(model, "var_weights", None)
    if var_weights is not None and np.any(np.asarray(var_weights) != 1):
        extra["var_weights"] = var_weights

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = _simulate_family(family, mu, scale, rng, model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            refit = sm.GLM(y, exog, family=family, **extra).fit(start_params=results.params)
        fitted = np.asarray(refit.fittedvalues, dtype=float)
        return fitted, y - fitted

    return NullModel(draw, f"the model's (GLM {type(family).__name__}, parametric bootstrap)")


def null_model(
    fit: Any, fitted: np.ndarray, residuals: np.ndarray, X: Any = None, keep: np.ndarray | None = None
) -> NullModel:
    """The null model of a fit in any form ``check`` accepts; :class:`NoNullModel` (one line) when there is none.

    ``fitted``/``residuals`` are the plot's validated columns; ``keep`` marks the fit's rows they kept (None:
    all), so that the design loses the same rows."""
    n = len(fitted)
    rows = slice(None) if keep is None else keep
    kind = type(fit).__name__
    module = type(fit).__module__
    if fit is None or isinstance(fit, (dict, tuple)) and not (isinstance(fit, tuple) and len(fit) == 3):
        design = np.column_stack([np.ones(n), fitted])
        return rotation(fitted, residuals, design, 1.0, "approximated by [1, fitted] (no design given)")
    if isinstance(fit, tuple):
        fit, X = fit[0], fit[1]
        kind, module = type(fit).__name__, type(fit).__module__
    if module.startswith("statsmodels"):
        model = getattr(fit, "model", None)
        name = type(model).__name__
        if name == "GLM":
            if keep is not None:
                raise NoNullModel("a GLM whose non-finite rows were dropped has no null plots here")
            return glm_bootstrap(fit)
        if name not in ("OLS", "WLS"):
            raise NoNullModel(f"no null plots for a statsmodels {name} fit (OLS, WLS and GLM have them)")
        exog = np.asarray(model.exog, dtype=float)[rows]
        weights = getattr(model, "weights", 1.0)
        weights = weights[rows] if np.ndim(weights) else weights
        if len(exog) != n:
            raise NoNullModel(f"the {name} design has {len(exog)} rows and the plot {n}")
        return rotation(fitted, residuals, exog, weights, f"the model's ({name})")
    if module.startswith("sklearn.linear_model") or hasattr(fit, "coef_") and hasattr(fit, "intercept_"):
        if X is None:
            raise NoNullModel(f"{kind}: null plots need X")
        try:
            x = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X, dtype=float)
        except (TypeError, ValueError):
            raise NoNullModel(f"{kind}: X is not all numbers, so its design is unknown") from None
        x = x.reshape(len(x), -1)[rows]
        intercept = bool(getattr(fit, "fit_intercept", True))
        design = np.column_stack([np.ones(n), x]) if intercept else x
        return rotation(fitted, residuals, design, 1.0, f"the model's ({kind}, treated as least squares)")
    raise NoNullModel(f"no null plots for a {kind}: only linear models and GLMs have a null model here")


@dataclass(frozen=True)
class NullTest:
    """The lineup test of one fit: the real plot's class probabilities against its null plots'.

    ``score`` = 1 - P(none); ``p_value`` = (1 + #{null score >= real score}) / (K + 1); ``evidence``: the same
    p-value per violation class, on P(class). ``label``: when ``p_value <= alpha``, the violation class whose
    evidence is strongest (smallest p, then highest probability), else ``none``."""

    label: str
    p_value: float
    evidence: dict[str, float]
    null_plots: int


NOT_VIOLATIONS = ("none", "unrecognized")


def null_test(real: np.ndarray, nulls: np.ndarray, classes: list[str], alpha: float) -> NullTest:
    """Test the real plot's probabilities (K,) against the null plots' (M, K)."""
    index = {c: i for i, c in enumerate(classes)}
    k = len(nulls)
    p_value = (1 + int(np.sum((1 - nulls[:, index["none"]]) >= (1 - real[index["none"]]) - 1e-12))) / (k + 1)
    evidence = {
        c: (1 + int(np.sum(nulls[:, i] >= real[i] - 1e-12))) / (k + 1)
        for c, i in index.items()
        if c not in NOT_VIOLATIONS
    }
    label = "none"
    if p_value <= alpha and evidence:
        label = min(evidence, key=lambda c: (evidence[c], -real[index[c]]))
    return NullTest(label, p_value, evidence, k)
