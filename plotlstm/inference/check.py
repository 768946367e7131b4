"""``check``: draw a fitted model's "Residuals vs Fitted" plot in memory (the R look) and classify it.

Accepted fits: a statsmodels results object (OLS, WLS, GLM, ...: ``fittedvalues`` and the response residuals), a
fitted scikit-learn regressor with ``X`` and ``y``, or plain ``fitted`` and ``residuals`` (numpy, pandas, lists).
A list or a dict of fits is drawn and classified in one batch; a bad fit in a batch gets an error entry and the
others are answered. pandas and scikit-learn are never imported here: objects are recognised by what they offer.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from threadpoolctl import ThreadpoolController

from plotlstm.errors import CheckError, PlotLSTMError, first_line, one_line
from plotlstm.synth.binned import binned_lowess
from plotlstm.synth.render import render
from plotlstm.synth.style import R_STYLE, Style

MIN_OBSERVATIONS = 10
EXACT_LOWESS_MAX = 2_000
"""Up to this many points the curve is statsmodels' lowess on every point; above, :func:`binned_lowess`."""
ACCEPTS = (
    "a statsmodels results object (OLS, WLS, GLM), a fitted scikit-learn regressor with X and y, "
    "or fitted= and residuals= arrays"
)


@dataclass(frozen=True)
class FitData:
    """The two columns a plot is drawn from, after validation."""

    fitted: np.ndarray
    residuals: np.ndarray
    dropped: int = 0
    """Rows dropped for NaN or infinite values (``drop_nonfinite=True``)."""


@dataclass(frozen=True, eq=False)
class CheckResult:
    """One fit's verdict: the class, every class's probability, the plot and the numbers it was drawn from.

    ``error`` is set (and ``label`` empty) for a fit of a batch that could not be checked.
    """

    name: str
    label: str = ""
    probabilities: dict[str, float] = field(default_factory=dict)
    image: Image.Image | None = field(default=None, repr=False)
    fitted: np.ndarray | None = field(default=None, repr=False)
    residuals: np.ndarray | None = field(default=None, repr=False)
    dropped: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def confidence(self) -> float:
        return self.probabilities.get(self.label, float("nan"))

    @property
    def n(self) -> int:
        return 0 if self.fitted is None else len(self.fitted)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: name, class, confidence, probabilities, n, dropped, error."""
        return {
            "name": self.name,
            "class": self.label,
            "confidence": self.confidence if self.ok else None,
            "probabilities": dict(self.probabilities),
            "n": self.n,
            "dropped": self.dropped,
            "error": self.error,
        }

    def png(self) -> bytes:
        """The plot as PNG bytes (empty for an error entry)."""
        if self.image is None:
            return b""
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def _repr_html_(self) -> str:
        title = f"<b>{html.escape(self.name)}</b>"
        if not self.ok:
            return f'<div style="color:#b91c1c">{title}: {html.escape(self.error)}</div>'
        bars = "".join(
            '<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
            f'<span style="width:64px;{"font-weight:600" if c == self.label else ""}">{html.escape(c)}</span>'
            '<span style="display:inline-block;width:160px;height:12px;background:#f1f5f9">'
            f'<span style="display:block;height:12px;width:{100 * p:.1f}%;'
            f'background:{"#2563eb" if c == self.label else "#cbd5e1"}"></span></span>'
            f'<span style="width:48px;text-align:right">{100 * p:.1f}%</span></div>'
            for c, p in self.probabilities.items()
        )
        source = base64.b64encode(self.png()).decode("ascii")
        dropped = f", {self.dropped} non-finite rows dropped" if self.dropped else ""
        return (
            '<div style="display:flex;gap:12px;align-items:flex-start;margin:4px 0">'
            f'<img src="data:image/png;base64,{source}" width="240" height="240" alt="residual plot">'
            f"<div>{title}: <b>{html.escape(self.label)}</b> ({100 * self.confidence:.1f}%)"
            f'<div style="color:#6b7280;font-size:90%">{self.n} observations{dropped}</div>{bars}</div></div>'
        )


class CheckResults(list):
    """The results of a list of fits, in order; shows itself in a notebook."""

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self)


class NamedCheckResults(dict):
    """The results of a dict of fits, by name; shows itself in a notebook."""

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() for r in self.values())


# --------------------------------------------------------------------------- adapters


def _column(values: Any, name: str) -> np.ndarray:
    """One numeric column as float64 (a pandas Series or one-column frame, a list, an array)."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheckError(
            f"{name}: expected numbers, got {type(values).__name__} with non-numeric values"
        ) from None
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise CheckError(f"{name}: expected one column of numbers, got an array of shape {array.shape}")
    return array


def _is_statsmodels_results(obj: Any) -> bool:
    return type(obj).__module__.startswith("statsmodels") and hasattr(obj, "fittedvalues")


def _from_statsmodels(results: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values and response residuals (``y - fitted``) of a statsmodels results object."""
    residuals = getattr(results, "resid_response", None)
    if residuals is None:
        residuals = results.resid
    return _column(results.fittedvalues, "fittedvalues"), _column(residuals, "residuals")


def _from_estimator(estimator: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``estimator.predict(X)`` and ``y - prediction`` for a fitted regressor."""
    kind = type(estimator).__name__
    if type(estimator).__module__.startswith("sklearn"):
        from sklearn.base import is_classifier

        if is_classifier(estimator):
            raise CheckError(f"{kind} is a classifier: residual plots need a regressor")
    if X is None or y is None:
        raise CheckError(f"{kind}: give X and y as well, check(estimator, X, y)")
    try:
        prediction = estimator.predict(X)
    except Exception as err:  # noqa: BLE001 - the estimator's own failure, told in one line
        first = first_line(err)
        raise CheckError(f"{kind}.predict(X) failed: {first}") from None
    fitted = _column(prediction, f"{kind}.predict(X)")
    observed = _column(y, "y")
    if len(observed) != len(fitted):
        raise CheckError(
            f"y has {len(observed)} values and {kind}.predict(X) {len(fitted)}: give X and y of one fit"
        )
    return fitted, observed - fitted


def extract(fit: Any = None, X: Any = None, y: Any = None, **columns: Any) -> tuple[np.ndarray, np.ndarray]:
    """(fitted, residuals) of one fit, in any accepted form, not yet validated."""
    if fit is None:
        if not columns:
            raise CheckError(f"nothing to check: give {ACCEPTS}")
        if "fitted" not in columns or "residuals" not in columns:
            missing = "residuals" if "fitted" in columns else "fitted"
            raise CheckError(f"{missing}: give both fitted= and residuals=")
        return _column(columns["fitted"], "fitted"), _column(columns["residuals"], "residuals")
    if isinstance(fit, Mapping) and {"fitted", "residuals"} <= set(fit):
        return _column(fit["fitted"], "fitted"), _column(fit["residuals"], "residuals")
    if isinstance(fit, tuple) and len(fit) == 2:
        return _column(fit[0], "fitted"), _column(fit[1], "residuals")
    if isinstance(fit, tuple) and len(fit) == 3 and hasattr(fit[0], "predict"):
        return _from_estimator(*fit)
    if _is_statsmodels_results(fit):
        return _from_statsmodels(fit)
    if type(fit).__module__.startswith("statsmodels") and hasattr(fit, "fit"):
        raise CheckError(
            f"{type(fit).__name__} is a model that is not fitted yet: pass the results of its .fit()"
        )
    if hasattr(fit, "predict") and not isinstance(fit, type):
        return _from_estimator(fit, X, y)
    raise CheckError(f"cannot check a {type(fit).__module__}.{type(fit).__name__}: give {ACCEPTS}")


def _positions(mask: np.ndarray, shown: int = 5) -> str:
    where = np.flatnonzero(mask)
    text = ", ".join(str(int(i)) for i in where[:shown])
    return text + (f" and {len(where) - shown} more" if len(where) > shown else "")


def validate(fitted: np.ndarray, residuals: np.ndarray, drop_nonfinite: bool = False) -> FitData:
    """Equal lengths, finite values (or dropped, when asked), at least :data:`MIN_OBSERVATIONS` rows."""
    if len(fitted) != len(residuals):
        raise CheckError(
            f"fitted has {len(fitted)} values and residuals {len(residuals)}: give one of each per observation"
        )
    bad = ~(np.isfinite(fitted) & np.isfinite(residuals))
    dropped = int(bad.sum())
    if dropped and not drop_nonfinite:
        parts = [
            f"{name} has {int(k)} NaN or infinite value{'s' if k > 1 else ''} "
            f"({'rows' if k > 1 else 'row'} {_positions(~np.isfinite(v))})"
            for name, v in (("fitted", fitted), ("residuals", residuals))
            if (k := (~np.isfinite(v)).sum())
        ]
        raise CheckError("; ".join(parts) + ", rows counted from 0; drop_nonfinite=True drops those rows")
    if dropped:
        fitted, residuals = fitted[~bad], residuals[~bad]
    if len(fitted) < MIN_OBSERVATIONS:
        after = f" after dropping {dropped} non-finite" if dropped else ""
        raise CheckError(
            f"only {len(fitted)} observations{after}: a residual plot needs at least {MIN_OBSERVATIONS}"
        )
    return FitData(fitted, residuals, dropped)


# --------------------------------------------------------------------------- drawing and classifying


def smoother_for(n: int) -> Any:
    """The renderer's smoother for ``n`` points: exact (statsmodels) up to :data:`EXACT_LOWESS_MAX`, else binned."""
    return None if n <= EXACT_LOWESS_MAX else binned_lowess


@lru_cache(maxsize=1)
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()  # scans the loaded libraries once


def draw(data: FitData, style: Style = R_STYLE) -> Image.Image:
    """The R-look plot of validated data, in memory."""
    with _threadpools().limit(limits=1, user_api="blas"):  # BLAS threads only spin on these small products
        return render(data.fitted, data.residuals, style, smoother_for(len(data.fitted)))


@lru_cache(maxsize=4)
def _load(path: str, mtime: float, device: str) -> Any:
    from plotlstm.inference.classifier import PlotClassifier

    return PlotClassifier.from_checkpoint(path, device=device)


def load_classifier(ckpt_path: str | Path | None = None, device: str = "auto") -> Any:
    """A PlotClassifier for ``ckpt_path`` (kept for the next call while the file is unchanged), else the bundled
    model."""
    from plotlstm.inference.classifier import PlotClassifier
    from plotlstm.models.checkpoint import find

    if ckpt_path is None or ckpt_path == "":
        return PlotClassifier.pretrained()
    path = find(ckpt_path)
    return _load(str(path.resolve()), path.stat().st_mtime, device)


def check_many(
    fits: Sequence[Any],
    names: Sequence[str],
    classifier: Any,
    drop_nonfinite: bool = False,
    style: Style = R_STYLE,
) -> list[CheckResult]:
    """Check several fits in one model call; a fit that cannot be drawn gets an error entry."""
    results: list[CheckResult | None] = [None] * len(fits)
    ready: list[tuple[int, FitData, Image.Image]] = []
    for i, (fit, name) in enumerate(zip(fits, names, strict=True)):
        try:
            data = validate(*extract(fit), drop_nonfinite=drop_nonfinite)
            ready.append((i, data, draw(data, style)))
        except PlotLSTMError as err:
            results[i] = CheckResult(name, error=f"{name}: {one_line(err)}")
    predictions = classifier.predict([image for _, _, image in ready]) if ready else []
    for (i, data, image), p in zip(ready, predictions, strict=True):
        results[i] = CheckResult(
            names[i], p.label, dict(p.probabilities), image, data.fitted, data.residuals, data.dropped
        )
    return [r for r in results if r is not None]


def check(
    fit: Any = None,
    X: Any = None,
    y: Any = None,
    *,
    fitted: Any = None,
    residuals: Any = None,
    ckpt_path: str | Path | None = None,
    classifier: Any = None,
    drop_nonfinite: bool = False,
    name: str | None = None,
    style: Style = R_STYLE,
) -> CheckResult | CheckResults | NamedCheckResults:
    """Check a fitted model by its "Residuals vs Fitted" plot.

    ``check(results)`` (statsmodels), ``check(estimator, X, y)`` (scikit-learn), ``check(fitted=..., residuals=...)``;
    a list of fits gives a list of results, a dict gives a dict (an element may also be ``(estimator, X, y)``,
    ``(fitted, residuals)`` or ``{"fitted": ..., "residuals": ...}``), classified in one batch; a bad element gets
    a result with ``error`` set. A single bad fit raises :class:`plotlstm.errors.CheckError` (one line).
    ``classifier`` (a PlotClassifier) is used as given; else ``ckpt_path`` is loaded (None: the bundled model).
    """
    batch = isinstance(fit, (list, dict)) and not (
        isinstance(fit, dict) and {"fitted", "residuals"} <= set(fit)
    )
    if batch:
        if X is not None or y is not None or fitted is not None or residuals is not None:
            raise CheckError("a batch of fits takes no X, y, fitted or residuals: put them in its elements")
        keys = list(fit) if isinstance(fit, dict) else [f"fit {i + 1}" for i in range(len(fit))]
        fits = list(fit.values()) if isinstance(fit, dict) else list(fit)
        if not fits:
            raise CheckError("the batch of fits is empty")
        classifier = classifier or load_classifier(ckpt_path)
        results = check_many(fits, [str(k) for k in keys], classifier, drop_nonfinite, style)
        if isinstance(fit, dict):
            return NamedCheckResults(zip(keys, results, strict=True))
        return CheckResults(results)
    data = validate(*extract(fit, X, y, **_given(fitted=fitted, residuals=residuals)), drop_nonfinite)
    classifier = classifier or load_classifier(ckpt_path)
    image = draw(data, style)
    p = classifier.predict(image)
    label = name or default_name(fit)
    return CheckResult(
        label, p.label, dict(p.probabilities), image, data.fitted, data.residuals, data.dropped
    )


def default_name(fit: Any) -> str:
    """A fit's name in tables: the formula or model class of a statsmodels fit, the estimator's class, "fit"."""
    if fit is None or isinstance(fit, (Mapping, tuple)):
        return "fit" if not (isinstance(fit, tuple) and len(fit) == 3) else type(fit[0]).__name__
    model = getattr(fit, "model", None)
    if _is_statsmodels_results(fit) and model is not None:
        return str(getattr(model, "formula", None) or type(model).__name__)
    return type(fit).__name__


def _given(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}
