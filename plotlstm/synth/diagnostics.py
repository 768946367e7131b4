"""The classic regression diagnostics of a simulated data set's OLS fit (statsmodels), as p-values.

Used to describe what each class does to the fit (``benchmarks/class_tests.py``, ``docs/generator.md``)
and to test each class's defining property.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.diagnostic import het_breuschpagan, linear_reset
from statsmodels.stats.outliers_influence import OLSInfluence
from statsmodels.stats.stattools import jarque_bera

from plotlstm.synth.simulate import Simulation

TESTS: tuple[str, ...] = ("jarque_bera", "breusch_pagan", "breusch_pagan_fitted", "reset", "bonferroni")
"""The p-values :func:`diagnose` returns, in table order."""


@dataclass(frozen=True)
class Diagnostics:
    """p-values of the classic tests on one OLS fit."""

    jarque_bera: float
    """Normality of the residuals (Jarque-Bera)."""
    breusch_pagan: float
    """Variance against the model's regressors (Breusch-Pagan, Koenker's studentised form)."""
    breusch_pagan_fitted: float
    """Variance against the fitted values and their square (Breusch-Pagan, Koenker), what the plot's x axis shows."""
    reset: float
    """Functional form: Ramsey's RESET with the fitted values' 2nd and 3rd powers (F test)."""
    bonferroni: float
    """The largest |externally studentised residual|, Bonferroni-adjusted (as ``OLSResults.outlier_test``)."""

    def rejects(self, alpha: float = 0.01) -> dict[str, bool]:
        """Which tests reject at level ``alpha``."""
        return {name: getattr(self, name) < alpha for name in TESTS}


def bonferroni_outlier_p(result: sm.regression.linear_model.RegressionResults) -> float:
    """Bonferroni-adjusted p-value of the largest |externally studentised residual|.

    The same figure as ``min(result.outlier_test("bonferroni")["bonf(p)"])``, but with the leave-one-out
    variance in closed form, ``(SSR - e_i^2 / (1 - h_i)) / (n - p - 1)``, instead of statsmodels'
    loop of n refits (quadratic in n; minutes for n = 10,000).
    An observation with leverage 1 (its residual is 0 whatever its y) has no studentised residual and
    is skipped; the Bonferroni factor stays n.
    """
    h = OLSInfluence(result).hat_matrix_diag
    resid = result.resid
    df = result.df_resid - 1
    ok = h < 1.0 - 1e-9
    sigma2 = (result.ssr - resid[ok] ** 2 / (1.0 - h[ok])) / df
    t = resid[ok] / np.sqrt(sigma2 * (1.0 - h[ok]))
    p = 2.0 * stats.t.sf(np.abs(t), df)
    return float(min(1.0, p.min() * len(resid)))


def interactions(sim: Simulation) -> np.ndarray:
    """The signal's two terms that the fitted model leaves out, as columns: B and X*B (``n x 2``).

    X is the sum of the predictors, B the product of the controls (mu = X + B + X*B).
    """
    if sim.design is None:
        raise ValueError("sim: no design matrix (simulate() sets it)")
    k = sim.predictors
    x = sim.design[:, 1 : 1 + k].sum(axis=1)
    b = sim.design[:, 1 + k :].prod(axis=1)
    return np.column_stack([b, x * b])


def diagnose(sim: Simulation, with_interaction: bool = False) -> Diagnostics:
    """Run the classic tests on ``sim``'s OLS fit (``y`` on the intercept, predictors and controls).

    ``with_interaction``: fit B and X*B too (the signal's terms that the generator's model leaves out).
    """
    if sim.design is None:
        raise ValueError("sim: no design matrix (simulate() sets it)")
    design = sim.design
    if with_interaction:
        extra = interactions(sim)
        design = np.column_stack([design, extra[:, extra.any(axis=0)]])  # B = 0 everywhere: nothing to add
    return classic_tests(sm.OLS(sim.y, design).fit())


def _reset(result: sm.regression.linear_model.RegressionResults, design: np.ndarray) -> float:
    """RESET's p-value; 1 where the fitted values' powers add nothing to the design (a fit of factors only)."""
    fitted = result.fittedvalues
    augmented = np.column_stack([design, fitted**2, fitted**3])
    if np.linalg.matrix_rank(augmented) <= np.linalg.matrix_rank(design):
        return 1.0
    return float(linear_reset(result, power=3, test_type="fitted", use_f=True).pvalue)


def classic_tests(result: sm.regression.linear_model.RegressionResults) -> Diagnostics:
    """The classic tests' p-values on any OLS fit (its own design for Breusch-Pagan)."""
    design = result.model.exog
    resid = result.resid
    fitted = result.fittedvalues
    z = (fitted - fitted.mean()) / fitted.std()
    return Diagnostics(
        jarque_bera=float(jarque_bera(resid)[1]),
        breusch_pagan=float(het_breuschpagan(resid, design)[1]),
        breusch_pagan_fitted=float(het_breuschpagan(resid, np.column_stack([np.ones_like(z), z, z**2]))[1]),
        reset=_reset(result, design),
        bonferroni=bonferroni_outlier_p(result),
    )
