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
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image
from rich.markup import escape
from threadpoolctl import ThreadpoolController

from plotlstm.errors import CheckError, PlotLSTMError, first_line, one_line
from plotlstm.inference.explain import Interval
from plotlstm.inference.nulls import NOT_VIOLATIONS, NoNullModel, NullModel, null_model, null_test
from plotlstm.inference.results import Result
from plotlstm.synth.binned import binned_lowess
from plotlstm.synth.render import _region, plot_limits, render
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
    keep: np.ndarray | None = field(default=None, repr=False)
    """Which of the fit's rows were kept (None: all)."""


@dataclass(frozen=True, eq=False, kw_only=True)
class CheckResult(Result):
    """One fit's verdict: the class, every class's probability, the plot and the numbers it was drawn from.

    With null plots (the default), ``label`` is the lineup test's verdict: a violation class when ``p_value <=
    alpha``, else ``none`` ("no evidence of a violation"); ``image_label`` is what the picture alone says.
    Without them (``null_plots=0``, or a fit that has no null model: ``note`` says why) the two are the same and
    ``p_value`` is None. ``error`` is set (and ``label`` empty) for a fit of a batch that could not be checked.
    """

    image: Image.Image | None = field(default=None, repr=False)
    fitted: np.ndarray | None = field(default=None, repr=False)
    residuals: np.ndarray | None = field(default=None, repr=False)
    dropped: int = 0
    image_label: str = ""
    p_value: float | None = None
    null_plots: int = 0
    evidence: dict[str, float] = field(default_factory=dict)
    """Per violation class: the p-value of its probability against the null plots'."""
    design: str = ""
    """The design the null plots were drawn on, in words ("" without null plots)."""
    note: str = ""
    """Why there are no null plots, when they were asked for."""
    alpha: float = 0.05
    seed: int = 0
    nulls: NullModel | None = field(default=None, repr=False)
    where: list[Interval] = field(default_factory=list)
    """For a violation: the stretches of fitted values where the evidence for it lies (the top 3), each with its
    share of the evidence (:mod:`plotlstm.inference.explain`); strongest first, or for the classes of
    :data:`ORDER` in the data's order (a fan's widest, a curve's sharpest bend, a cap's most capped rows first)."""
    rows: list[int] = field(default_factory=list)
    """For ``outlier``: the rows (of the plotted data, counted from 0) in the columns that speak for it (positive
    evidence) farther than 3.5 robust sds from zero, farthest first."""
    x_axis: dict[str, float] = field(default_factory=dict)
    """With ``where``: the plot area's edges as shares of the image's width (``left``, ``right``) and the fitted
    values there (``low``, ``high``), to draw the stretches under the plot (:meth:`strip`)."""

    KEY: ClassVar[str] = "fit"
    HEADINGS: ClassVar[tuple[str, ...]] = ("verdict", "p", "picture alone", "n")
    PER_CLASS_CELLS: ClassVar[bool] = False

    @property
    def n(self) -> int:
        return 0 if self.fitted is None else len(self.fitted)

    @property
    def summary(self) -> str:
        """The verdict in words, e.g. "no evidence of a violation (p = 0.45, 19 null plots)"."""
        if not self.ok:
            return self.error
        if self.p_value is None:
            return f"{self.label} (picture only, confidence {self.confidence:.2f})"
        test = f"p = {self.p_value:.3g}, {self.null_plots} null plots"
        if self.label == "none":
            return f"no evidence of a violation ({test})"
        return f"{self.label} ({test})"

    def columns(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """CSV: name, class, p_value, null_plots, image_class; after the probabilities n, dropped, design, note,
        error."""
        p_value = "" if self.p_value is None else repr(self.p_value)
        head = {"name": self.name, "class": self.label, "p_value": p_value, "null_plots": self.null_plots}
        tail = {"n": self.n, "dropped": self.dropped, "design": self.design, "note": self.note}
        return head | {"image_class": self.image_label}, tail | {"error": self.error}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: name, class, confidence, probabilities, the test (p_value, null_plots, evidence, design,
        image_class, note, summary), where, rows, x_axis, n, dropped, error."""
        return {
            "name": self.name,
            "class": self.label,
            "confidence": self.confidence if self.ok else None,
            "probabilities": dict(self.probabilities),
            "p_value": self.p_value,
            "null_plots": self.null_plots,
            "evidence": dict(self.evidence),
            "design": self.design,
            "image_class": self.image_label,
            "note": self.note,
            "summary": self.summary if self.ok else "",
            "where": [w.as_dict() for w in self.where],
            "rows": list(self.rows),
            "x_axis": dict(self.x_axis),
            "n": self.n,
            "dropped": self.dropped,
            "error": self.error,
        }

    def strip(self) -> list[dict[str, float]]:
        """The stretches of ``where`` as segments under the plot: ``left`` and ``width`` as shares of the image's
        width, and the ``share`` of the evidence."""
        if not self.where or not self.x_axis:
            return []
        a = self.x_axis
        scale = (a["right"] - a["left"]) / ((a["high"] - a["low"]) or 1.0)
        return [
            {
                "left": a["left"] + (w.low - a["low"]) * scale,
                "width": (w.high - w.low) * scale,
                "share": w.share,
            }
            for w in self.where
        ]

    def cells(self) -> list[str]:
        """The verdict ("no evidence" for a tested ``none``), its p-value, the picture's label with its
        probability, n (and the rows dropped)."""
        if not self.ok:
            return ["[red]error[/red]", "", "", ""]
        words = "no evidence" if self.label == "none" and self.p_value is not None else self.label
        p_value = "" if self.p_value is None else f"{self.p_value:.3g}"
        picture = escape(self.image_label)
        if self.image_label in self.probabilities:
            picture += f" ({self.probabilities[self.image_label]:.2f})"
        n = f"{self.n:,}" + (f" (-{self.dropped})" if self.dropped else "")
        return [f"[bold]{escape(words)}[/bold]", p_value, picture, n]

    @classmethod
    def footer(cls, rows: Sequence[Result]) -> str:
        tested = [r for r in rows if isinstance(r, CheckResult) and r.p_value is not None]
        failed = sum(1 for r in rows if r.error)
        line = f"{len(rows) - failed} checked, {failed} failed"
        if tested:
            line += (
                f"; verdict: a violation when p <= {tested[0].alpha} against {tested[0].null_plots} null plots "
                "of the same fit (docs/check.md); picture: the model's label on the plot alone"
            )
        return line

    def png(self) -> bytes:
        """The plot as PNG bytes (empty for an error entry)."""
        return _png(self.image) if self.image is not None else b""

    def lineup(self, size: int = 20, style: Style = R_STYLE) -> Lineup:
        """The lineup protocol's picture: the real plot placed at random among ``size - 1`` null plots of this
        fit (seeded by the result's seed), with the answer."""
        if self.nulls is None or self.image is None:
            raise CheckError(f"{self.name}: no null plots for this fit ({self.note or 'null_plots=0'})")
        rng = np.random.default_rng([self.seed, 1])
        panels = [draw(FitData(*self.nulls.draw(rng)), style) for _ in range(size - 1)]
        position = int(rng.integers(size))
        panels.insert(position, self.image)
        return Lineup(self.name, panels, position + 1, self.summary)

    def _repr_html_(self) -> str:
        title = f"<b>{html.escape(self.name)}</b>"
        if not self.ok:
            return f'<div style="color:#b91c1c">{title}: {html.escape(self.error)}</div>'
        bars = "".join(
            '<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
            f'<span style="width:112px;{"font-weight:600" if c == self.label else ""}">{html.escape(c)}</span>'
            '<span style="display:inline-block;width:160px;height:12px;background:#f1f5f9">'
            f'<span style="display:block;height:12px;width:{100 * p:.1f}%;'
            f'background:{"#2563eb" if c == self.label else "#cbd5e1"}"></span></span>'
            f'<span style="width:48px;text-align:right">{100 * p:.1f}%</span></div>'
            for c, p in self.probabilities.items()
        )
        source = base64.b64encode(self.png()).decode("ascii")
        strip = "".join(  # where along the fitted values, under the plot's x axis
            f'<span style="position:absolute;left:{100 * g["left"]:.1f}%;width:{max(100 * g["width"], 1):.1f}%;'
            f'height:8px;background:#dc2626;opacity:{0.3 + 0.7 * g["share"]:.2f}"></span>'
            for g in self.strip()
        )
        if strip:
            strip = (
                '<div title="where the evidence lies along the fitted values" style="position:relative;'
                f'width:240px;height:8px;background:#f1f5f9;margin-top:2px">{strip}</div>'
            )
        dropped = f", {self.dropped} non-finite rows dropped" if self.dropped else ""
        test = f"{self.n} observations{dropped}"
        if self.p_value is not None:
            test += f"; the picture alone: {self.image_label}; null plots on {self.design}"
        elif self.note:
            test += f"; {self.note}"
        return (
            '<div style="display:flex;gap:12px;align-items:flex-start;margin:4px 0">'
            f'<div><img src="data:image/png;base64,{source}" width="240" height="240" alt="residual plot">'
            f"{strip}</div><div>{title}: <b>{html.escape(self.summary)}</b>"
            f'<div style="color:#6b7280;font-size:90%">{html.escape(test)}</div>{bars}</div></div>'
        )


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


@dataclass(frozen=True)
class Lineup:
    """A lineup: ``panels`` (the real plot is panel ``answer``, counted from 1) and the verdict."""

    name: str
    panels: list[Image.Image] = field(repr=False)
    answer: int
    verdict: str

    @property
    def image(self) -> Image.Image:
        """The panels on a grid of 5 columns, numbered."""
        from PIL import ImageDraw

        cols, side = 5, 200
        rows = -(-len(self.panels) // cols)
        sheet = Image.new("RGB", (cols * side, rows * side), "white")
        pen = ImageDraw.Draw(sheet)
        for i, panel in enumerate(self.panels):
            x, y = (i % cols) * side, (i // cols) * side
            sheet.paste(panel.convert("RGB").resize((side - 4, side - 4)), (x + 2, y + 2))
            pen.text((x + 8, y + 6), str(i + 1), fill="black")
        return sheet

    def _repr_html_(self) -> str:
        source = base64.b64encode(_png(self.image)).decode("ascii")
        return (
            f"<div><b>{html.escape(self.name)}</b>: which plot is the real one?"
            f'<br><img src="data:image/png;base64,{source}" alt="lineup">'
            f"<details><summary>answer</summary>plot {self.answer}: {html.escape(self.verdict)}</details></div>"
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
    except (TypeError, ValueError, OverflowError):
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


DRAWABLE = (1e-300, 1e300)
"""A column's values must lie within +-1e300 and span 0 or at least 1e-300: beyond, the plot's axis arithmetic
overflows or underflows. Rescale such data (the plot's shape does not change; its tick labels do)."""


def _drawable(name: str, column: np.ndarray) -> None:
    if not len(column):
        return
    lo, hi = float(column.min()), float(column.max())
    span = hi - lo
    if max(abs(lo), abs(hi)) > DRAWABLE[1] or (0 < span < DRAWABLE[0]) or not np.isfinite(span):
        raise CheckError(
            f"{name}: values from {lo:.3g} to {hi:.3g} cannot be drawn (a column must lie within +-1e300 and "
            "span 0 or at least 1e-300); rescale it"
        )


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
    for name, column in (("fitted", fitted), ("residuals", residuals)):
        _drawable(name, column)
    if len(fitted) < MIN_OBSERVATIONS:
        after = f" after dropping {dropped} non-finite" if dropped else ""
        raise CheckError(
            f"only {len(fitted)} observations{after}: a residual plot needs at least {MIN_OBSERVATIONS}"
        )
    return FitData(fitted, residuals, dropped, ~bad if dropped else None)


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


PARALLEL_DRAW_MIN = 20_000
"""From this many points a plot, :func:`draw_many` draws on every core (each plot then takes over 20 ms)."""


def draw_many(
    make: Callable[[], FitData],
    count: int,
    style: Style = R_STYLE,
    convert: Callable[[Image.Image], Any] | None = None,
) -> list[Any]:
    """``count`` plots of the data ``make()`` gives (a fit's null plots, made in order), on a thread per core when
    they are large (numpy releases the GIL). Only as many data sets as threads are held at a time (the next is
    made as soon as a thread is free, while the others draw), and ``convert`` (e.g. to model input) is applied
    to each plot as it is drawn, so only the converted ones are kept."""
    keep = convert or (lambda image: image)
    if not count:
        return []
    first = [make()]  # a list, so that the generator below hands it over and nothing here keeps it
    size = len(first[0].fitted)
    data = (first.pop() if i == 0 else make() for i in range(count))  # made one at a time, when drawn
    workers = os.cpu_count() or 1
    if size < PARALLEL_DRAW_MIN or workers < 2:
        return [keep(draw(d, style)) for d in data]

    def paint(d: FitData) -> Any:
        return keep(render(d.fitted, d.residuals, style, smoother_for(len(d.fitted))))

    out: list[Any] = [None] * count
    drawing: dict[Future, int] = {}
    with _threadpools().limit(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        for i in range(count):
            if len(drawing) == workers:  # wait for a free thread before making the next data set
                done, _ = wait(drawing, return_when=FIRST_COMPLETED)
                for future in done:
                    out[drawing.pop(future)] = future.result()
            drawing[pool.submit(paint, next(data))] = i
        for future, i in drawing.items():
            out[i] = future.result()
    return out


@lru_cache(maxsize=4)
def _load(path: str, mtime: float, device: str) -> Any:
    from plotlstm.inference.classifier import PlotClassifier

    return PlotClassifier.from_checkpoint(path, device=device)


def load_classifier(ckpt_path: str | Path | None = None, device: str = "auto") -> Any:
    """A PlotClassifier for ``ckpt_path`` (kept for the next call while the file is unchanged), else the bundled
    model."""
    from plotlstm.inference.classifier import BUNDLED, PlotClassifier
    from plotlstm.models.checkpoint import find

    if ckpt_path is None or ckpt_path == "":
        return PlotClassifier.pretrained()
    if ckpt_path in BUNDLED and not Path(ckpt_path).exists():
        return PlotClassifier.pretrained(str(ckpt_path), device=device)
    path = find(ckpt_path)
    return _load(str(path.resolve()), path.stat().st_mtime, device)


NULL_PLOTS = 19
"""Null plots per fit by default: the lineup protocol's 19, the fewest that can reach p = 0.05 (docs/check.md)."""


@dataclass
class _Pending:
    """A fit drawn and waiting for the model: its plot and its null plots."""

    data: FitData
    image: Image.Image
    null_images: list[Any]
    """The null plots (PIL images, or what ``convert`` made of them)."""
    nulls: NullModel | None
    note: str


def prepare(
    fit: Any,
    X: Any = None,
    drop_nonfinite: bool = False,
    style: Style = R_STYLE,
    null_plots: int = NULL_PLOTS,
    seed: int = 0,
    convert: Callable[[Image.Image], Any] | None = None,
    **columns: Any,
) -> _Pending:
    """Validate one fit, draw its plot and (``null_plots`` > 0) its null plots, each passed through ``convert``
    as it is drawn when given; errors are one line."""
    y = columns.pop("y", None)
    data = validate(*extract(fit, X, y, **columns), drop_nonfinite)
    image = draw(data, style)
    if not null_plots:
        return _Pending(data, image, [], None, "")
    try:
        model = null_model(fit, data.fitted, data.residuals, X, data.keep)
    except NoNullModel as err:
        return _Pending(data, image, [], None, f"no null plots: {one_line(err)}")
    rng = np.random.default_rng([seed, 0])
    try:  # a refit can fail (a GLM's simulated response separates perfectly, IRLS does not converge...)
        nulls = draw_many(lambda: FitData(*model.draw(rng)), null_plots, style, convert)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as err:
        return _Pending(data, image, [], None, f"no null plots: a null refit failed ({first_line(err)})")
    return _Pending(data, image, nulls, model, "")


def decide_many(
    pending: Sequence[_Pending],
    names: Sequence[str],
    classifier: Any,
    alpha: float,
    seed: int,
    style: Style = R_STYLE,
) -> list[CheckResult]:
    """Classify every fit's plot and null plots in one model call, test each fit against its nulls, and say
    where along the fitted values the evidence for each violation found lies."""
    return locate(_decide(pending, names, classifier, alpha, seed), classifier, style)


def _decide(
    pending: Sequence[_Pending], names: Sequence[str], classifier: Any, alpha: float, seed: int
) -> list[CheckResult]:
    images = [im for p in pending for im in (p.image, *p.null_images)]
    predictions = classifier.predict(images) if images else []
    classes = list(classifier.classes)
    results, at = [], 0
    for p, name in zip(pending, names, strict=True):
        real, nulls = predictions[at], predictions[at + 1 : at + 1 + len(p.null_images)]
        at += 1 + len(p.null_images)
        probs = dict(real.probabilities)
        common = dict(image=p.image, fitted=p.data.fitted, residuals=p.data.residuals, dropped=p.data.dropped)
        if not nulls or "none" not in classes:
            note = p.note or ("no null test: the model has no class none" if nulls else "")
            results.append(CheckResult(name, real.label, probs, image_label=real.label, note=note, **common))
            continue
        test = null_test(
            np.array([probs[c] for c in classes]),
            np.array([[q.probabilities[c] for c in classes] for q in nulls]),
            classes,
            alpha,
        )
        results.append(
            CheckResult(
                name,
                test.label,
                probs,
                image_label=real.label,
                p_value=test.p_value,
                null_plots=test.null_plots,
                evidence=test.evidence,
                design=p.nulls.design if p.nulls else "",
                alpha=alpha,
                seed=seed,
                nulls=p.nulls,
                **common,
            )
        )
    return results


def plot_x(fitted: np.ndarray, residuals: np.ndarray, style: Style) -> dict[str, float]:
    """The plot area's edges as shares of the image's width (``left``, ``right``) and the fitted values there
    (``low``, ``high``), as the renderer draws them."""
    left, _, right, _, _ = _region(style)
    x0, x1, _, _ = plot_limits(fitted, residuals, style.labels)
    return {"left": left / style.width, "right": right / style.width, "low": float(x0), "high": float(x1)}


def fitted_axis(a: dict[str, float], columns: int) -> np.ndarray:
    """The fitted value at the centre of each of the model input's ``columns`` (NaN outside the plot area ``a``,
    :func:`plot_x`)."""
    centre = (np.arange(columns) + 0.5) / columns
    value = a["low"] + (centre - a["left"]) / (a["right"] - a["left"]) * (a["high"] - a["low"])
    return np.where((centre >= a["left"]) & (centre <= a["right"]), value, np.nan)


OUTLIER_SDS = 3.5
"""A row is an outlier's candidate when its residual is this many robust sds (1.4826 MAD) from zero."""


def flagged_rows(
    fitted: np.ndarray,
    residuals: np.ndarray,
    evidence: np.ndarray,
    axis: np.ndarray,
) -> list[int]:
    """The rows in the flagged columns (those that speak for the class: positive evidence) whose residual is more
    than :data:`OUTLIER_SDS` robust sds from zero, farthest first."""
    spread = 1.4826 * float(np.median(np.abs(residuals - np.median(residuals)))) or 1.0
    step = (axis[-1] - axis[0]) / max(len(axis) - 1, 1)
    flagged = axis[evidence > 0]
    column = np.clip(np.round((fitted - axis[0]) / step).astype(int), 0, len(axis) - 1) if step > 0 else 0
    near = np.isin(axis[column], flagged) if step > 0 else np.ones(len(fitted), bool)
    far = np.flatnonzero(near & (np.abs(residuals) > OUTLIER_SDS * spread))
    return [int(j) for j in far[np.argsort(-np.abs(residuals[far]))]]


def widest_first(where: list[Interval], fitted: np.ndarray, residuals: np.ndarray) -> list[Interval]:
    """A fan's stretches, the one whose residuals spread widest (root mean square, at least 10 rows) first: the
    network's evidence for a fan often lies in its dense narrow part as much as at its wide end; the data tell
    which of the stretches is wide. ``locate`` orders the top 5 and keeps 3 (chosen on ``benchmarks/where.py
    --seed 1`` and ``--seed 2``: 86 and 68 % against 75 and 55 % from the top 3)."""

    def spread(w: Interval) -> float:
        inside = (fitted >= w.low) & (fitted <= w.high)
        return float(np.sqrt(np.mean(residuals[inside] ** 2))) if inside.sum() >= 10 else 0.0

    return sorted(where, key=spread, reverse=True)


BEND_ROWS = 100_000
"""``bend_first`` fits its hinges on at most this many rows, a fixed random subset of a larger fit: on every row of
a 1,000,000-row fit its 25 least-squares fits took 0.9 s of ``check``'s 3.8 s (``benchmarks/check_speed.py``)."""


def bend_first(where: list[Interval], fitted: np.ndarray, residuals: np.ndarray) -> list[Interval]:
    """A curve's stretches, the one where a change of slope explains most of the residuals first: the residuals
    are fitted by a line with a hinge (``(fitted - k)+``) at 5 knots ``k`` across each stretch, and a stretch
    scores the largest drop of their sum of squares (on :data:`BEND_ROWS` rows at most). The network says that
    the residuals bend; the data tell where they bend most (``locate`` orders the top 5 and keeps 3; chosen with
    :data:`explain.WIDE_BAND` on ``benchmarks/where.py --seed 1`` and ``--seed 2``)."""
    if len(fitted) > BEND_ROWS:
        keep = np.random.default_rng(0).choice(len(fitted), BEND_ROWS, replace=False)
        fitted, residuals = fitted[keep], residuals[keep]
    total = float(np.sum(residuals**2))

    def drop(w: Interval) -> float:
        best = 0.0
        for k in np.linspace(w.low, w.high, 5):
            design = np.column_stack([np.ones_like(fitted), fitted, np.maximum(fitted - k, 0)])
            rss = np.linalg.lstsq(design, residuals, rcond=None)[1]
            best = max(best, total - float(rss[0]) if len(rss) else 0.0)
        return best

    return sorted(where, key=drop, reverse=True)


def capped_first(where: list[Interval], fitted: np.ndarray, residuals: np.ndarray) -> list[Interval]:
    """A cap's stretches, the one holding most of the capped rows first: the rows whose response
    (``fitted + residuals``) ties at its largest value (or its smallest, for a floor: whichever side more rows
    share). Without such ties (a soft cap) the order stays the evidence's."""
    y = fitted + residuals
    tol = 1e-9 * (float(np.max(np.abs(y))) or 1.0)
    top, bottom = np.abs(y - y.max()) <= tol, np.abs(y - y.min()) <= tol
    capped = top if top.sum() >= bottom.sum() else bottom
    if capped.sum() < 2:
        return list(where)
    return sorted(where, key=lambda w: -int(np.sum(capped & (fitted >= w.low) & (fitted <= w.high))))


ORDER = {"heteroskedastic": widest_first, "nonlinear": bend_first, "ceiling": capped_first}
"""Classes whose top 5 stretches the data reorder (3 kept): the network finds the stretches, the data tell which
is the wide end of a fan, the sharpest bend of a curve or where a cap binds (chosen on ``benchmarks/where.py
--seed 1``, ``2`` and ``3``; caps 96.9 / 95.9 / 94.0 % against 86.7 / 86.7 / 88.0 % in the evidence's order)."""


def locate(results: list[CheckResult], classifier: Any, style: Style) -> list[CheckResult]:
    """``where`` (and for ``outlier``, ``rows``) of each result whose verdict is a violation, in one batch."""
    from plotlstm.inference.explain import column_evidence, intervals

    found = [
        i
        for i, r in enumerate(results)
        if r.ok and r.label in classifier.classes and r.label not in NOT_VIOLATIONS
    ]
    if not found:
        return results
    images = torch.stack([classifier.prepare(results[i].image) for i in found]).to(classifier.device)
    index = torch.tensor(
        [classifier.classes.index(results[i].label) for i in found], device=classifier.device
    )
    names = [results[i].label for i in found]
    evidence = column_evidence(classifier.net, images, index, names=names).float().cpu().numpy()
    out = list(results)
    for i, ev in zip(found, evidence, strict=True):
        r = results[i]
        x_axis = plot_x(r.fitted, r.residuals, style)
        axis = fitted_axis(x_axis, len(ev))
        inside = np.isfinite(axis)
        if r.label in ORDER:  # the top 5 stretches in the data's order, 3 kept
            where = ORDER[r.label](intervals(ev[inside], axis[inside], top=5), r.fitted, r.residuals)[:3]
        else:
            where = intervals(ev[inside], axis[inside])
        rows: list[int] = []
        if r.label == "outlier" and where:
            rows = flagged_rows(r.fitted, r.residuals, ev[inside], axis[inside])
        out[i] = replace(r, where=where, rows=rows, x_axis=x_axis)
    return out


def checked_options(null_plots: Any, alpha: Any, seed: Any) -> None:
    if isinstance(null_plots, bool) or not isinstance(null_plots, int) or not 0 <= null_plots <= 999:
        raise CheckError(f"null_plots: a whole number 0..999 (0: the picture alone), got {null_plots!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise CheckError(f"alpha: a number between 0 and 1, got {alpha!r}")
    if null_plots and alpha < 1 / (null_plots + 1):
        raise CheckError(
            f"alpha: {alpha} is below 1/(null_plots + 1) = {1 / (null_plots + 1):.4g}, the smallest p-value "
            f"{null_plots} null plots can give; raise null_plots"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise CheckError(f"seed: a whole number >= 0, got {seed!r}")


def check_many(
    fits: Sequence[Any],
    names: Sequence[str],
    classifier: Any,
    drop_nonfinite: bool = False,
    style: Style = R_STYLE,
    null_plots: int = NULL_PLOTS,
    alpha: float = 0.05,
    seed: int = 0,
) -> list[CheckResult]:
    """Check several fits in one model call; a fit that cannot be drawn gets an error entry."""
    checked_options(null_plots, alpha, seed)
    results: list[CheckResult | None] = [None] * len(fits)
    ready: list[tuple[int, _Pending]] = []
    for i, (fit, name) in enumerate(zip(fits, names, strict=True)):
        try:
            ready.append((i, prepare(fit, None, drop_nonfinite, style, null_plots, seed)))
        except PlotLSTMError as err:
            results[i] = CheckResult(name, error=f"{name}: {one_line(err)}")
    decided = decide_many([p for _, p in ready], [names[i] for i, _ in ready], classifier, alpha, seed, style)
    for (i, _), result in zip(ready, decided, strict=True):
        results[i] = result
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
    null_plots: int = NULL_PLOTS,
    alpha: float = 0.05,
    seed: int = 0,
) -> CheckResult | CheckResults | NamedCheckResults:
    """Check a fitted model by its "Residuals vs Fitted" plot, tested against null plots of the same fit.

    ``check(results)`` (statsmodels), ``check(estimator, X, y)`` (scikit-learn), ``check(fitted=..., residuals=...)``;
    a list of fits gives a list of results, a dict gives a dict (an element may also be ``(estimator, X, y)``,
    ``(fitted, residuals)`` or ``{"fitted": ..., "residuals": ...}``), classified in one batch; a bad element gets
    a result with ``error`` set. A single bad fit raises :class:`plotlstm.errors.CheckError` (one line).
    ``null_plots`` null plots of the fit (docs/check.md; 0: the picture alone) give a p-value; the verdict is a
    violation when it is at most ``alpha``. ``seed`` makes the null plots, so the same fit gets the same answer.
    ``classifier`` (a PlotClassifier) is used as given; else ``ckpt_path`` is loaded (None: the bundled model).
    """
    checked_options(null_plots, alpha, seed)
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
        results = check_many(
            fits, [str(k) for k in keys], classifier, drop_nonfinite, style, null_plots, alpha, seed
        )
        if isinstance(fit, dict):
            return NamedCheckResults(zip(keys, results, strict=True))
        return CheckResults(results)
    columns = _given(fitted=fitted, residuals=residuals, y=y)
    pending = prepare(fit, X, drop_nonfinite, style, null_plots, seed, **columns)
    classifier = classifier or load_classifier(ckpt_path)
    return decide_many([pending], [name or default_name(fit)], classifier, alpha, seed, style)[0]


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
