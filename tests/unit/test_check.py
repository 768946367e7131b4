"""``plotlstm.check``: the adapters, the validation (one line each), batches, the result, the top-level call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from plotlstm.errors import CheckError
from plotlstm.inference.check import CheckResult, CheckResults, NamedCheckResults, check
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.synth.render import render

FOUR = ["biased", "ceiling", "none", "outlier"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ckpt(four_class_ckpt: Path) -> Path:
    return four_class_ckpt


@pytest.fixture(scope="module")
def clf(ckpt: Path) -> PlotClassifier:
    return PlotClassifier.from_checkpoint(ckpt, device="cpu")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(200), rng.normal(size=(200, 2))])
    y = X @ [1.0, 2.0, -1.0] + rng.standard_normal(200) ** 2
    return {"X": X, "y": y}


def test_arrays_lists_and_pandas_give_the_plot_of_the_numbers(clf: PlotClassifier) -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    f, r = rng.normal(size=300), rng.normal(size=300)
    result = check(fitted=f, residuals=r, classifier=clf, null_plots=0)  # the picture alone
    assert isinstance(result, CheckResult) and result.ok and result.n == 300 and result.p_value is None
    assert result.label in FOUR and result.label == max(result.probabilities, key=result.probabilities.get)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(np.asarray(result.image), np.asarray(render(f, r)))  # the R look, exactly
    assert result.probabilities == clf.predict(render(f, r)).probabilities
    as_lists = check(fitted=f.tolist(), residuals=r.tolist(), classifier=clf, null_plots=0)
    as_pandas = check(fitted=pd.Series(f), residuals=pd.DataFrame({"r": r}), classifier=clf, null_plots=0)
    assert as_lists.probabilities == as_pandas.probabilities == result.probabilities


def test_statsmodels_ols_wls_glm_use_fitted_values_and_response_residuals(
    clf: PlotClassifier, data: dict[str, np.ndarray]
) -> None:
    import statsmodels.api as sm

    X, y = data["X"], data["y"]
    fits = {
        "ols": sm.OLS(y, X).fit(),
        "wls": sm.WLS(y, X, weights=np.linspace(0.5, 2, len(y))).fit(),
        "glm": sm.GLM(y + 5, X, family=sm.families.Gamma(sm.families.links.Log())).fit(),
    }
    for name, fit in fits.items():
        result = check(fit, classifier=clf)
        response = y + 5 if name == "glm" else y
        assert np.allclose(result.fitted, fit.fittedvalues) and np.allclose(
            result.residuals, response - fit.fittedvalues
        )
    assert check(fits["ols"], classifier=clf).name == "OLS"


def test_sklearn_regressor_with_x_and_y(clf: PlotClassifier, data: dict[str, np.ndarray]) -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    est = linear_model.Ridge(alpha=1.0).fit(data["X"], data["y"])
    result = check(est, data["X"], data["y"], classifier=clf)
    assert result.name == "Ridge"
    assert np.allclose(result.fitted, est.predict(data["X"]))
    assert np.allclose(result.residuals, data["y"] - est.predict(data["X"]))


def _bad_cases(data: dict[str, np.ndarray]) -> list[tuple[dict, str]]:
    import statsmodels.api as sm

    f = np.arange(40.0)
    with_gaps = f.copy()
    with_gaps[[3, 17]] = [np.nan, np.inf]
    return [
        ({"fitted": f, "residuals": f[:-1]}, "fitted has 40 values and residuals 39"),
        ({"fitted": f[:9], "residuals": f[:9]}, "only 9 observations: a residual plot needs at least 10"),
        ({"fitted": with_gaps, "residuals": f}, "fitted has 2 NaN or infinite values (rows 3, 17)"),
        ({"fitted": f, "residuals": ["a"] * 40}, "residuals: expected numbers"),
        ({"fitted": f}, "residuals: give both fitted= and residuals="),
        ({"fit": "model.pkl"}, "cannot check a builtins.str: give a statsmodels results object"),
        ({"fit": object()}, "cannot check a builtins.object"),
        ({"fit": sm.OLS(data["y"], data["X"])}, "OLS is a model that is not fitted yet"),
        ({"fit": np.zeros((3, 3))}, "cannot check a numpy.ndarray"),
        ({}, "nothing to check"),
    ]


def test_bad_input_is_one_clear_line(clf: PlotClassifier, data: dict[str, np.ndarray]) -> None:
    for kwargs, expected in _bad_cases(data):
        with pytest.raises(CheckError) as info:
            check(**kwargs, classifier=clf)
        message = str(info.value)
        assert expected in message and "\n" not in message, (kwargs, message)


def test_unfitted_or_foreign_estimators(clf: PlotClassifier, data: dict[str, np.ndarray]) -> None:
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression, LogisticRegression

    X, y = data["X"], data["y"]
    cases = [
        (
            (LinearRegression(), X, y),
            "LinearRegression.predict(X) failed: This LinearRegression instance is not fitted",
        ),
        ((LinearRegression().fit(X, y),), "LinearRegression: give X and y as well"),
        ((LinearRegression().fit(X, y), X, y[:-1]), "y has 199 values and LinearRegression.predict(X) 200"),
        ((LogisticRegression().fit(X, y > y.mean()), X, y), "LogisticRegression is a classifier"),
    ]
    assert sklearn
    for args, expected in cases:
        with pytest.raises(CheckError, match=None) as info:
            check(*args, classifier=clf)
        assert expected in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_drop_nonfinite_drops_and_counts(clf: PlotClassifier) -> None:
    rng = np.random.default_rng(1)
    f, r = rng.normal(size=50), rng.normal(size=50)
    f[4], r[7], r[9] = np.nan, np.inf, -np.inf
    result = check(fitted=f, residuals=r, classifier=clf, drop_nonfinite=True)
    assert result.dropped == 3 and result.n == 47 and np.isfinite(result.residuals).all()
    with pytest.raises(CheckError, match=r"only 7 observations after dropping 3 non-finite"):
        check(fitted=f[:10], residuals=r[:10], classifier=clf, drop_nonfinite=True)


def test_batch_list_and_dict_answer_the_good_fits(clf: PlotClassifier, data: dict[str, np.ndarray]) -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    f, r = rng.normal(size=100), rng.normal(size=100)
    ols = sm.OLS(data["y"], data["X"]).fit()
    batch = check([ols, (f, r), {"fitted": f, "residuals": r[:50]}, object()], classifier=clf)
    assert isinstance(batch, CheckResults) and [x.ok for x in batch] == [True, True, False, False]
    assert batch[2].error.startswith("fit 3: fitted has 100 values") and "builtins.object" in batch[3].error
    assert batch[1].probabilities == pytest.approx(
        check(fitted=f, residuals=r, classifier=clf).probabilities, abs=1e-5
    )
    named = check({"ols": ols, "short": (f[:3], r[:3])}, classifier=clf)
    assert isinstance(named, NamedCheckResults) and list(named) == ["ols", "short"]
    assert (
        named["ols"].probabilities == pytest.approx(batch[0].probabilities, abs=1e-5)
        and not named["short"].ok
    )
    html = named._repr_html_()
    assert html.count("<img") == 1 and "short: only 3 observations" in html


def test_result_shows_itself_and_serialises(clf: PlotClassifier) -> None:
    rng = np.random.default_rng(4)
    result = check(fitted=rng.normal(size=60), residuals=rng.normal(size=60), classifier=clf, name="a<b>")
    html = result._repr_html_()
    assert html.count("data:image/png;base64,") == 1 and "a&lt;b&gt;" in html and "<b>" in html
    assert sum(f">{c}</span>" in html for c in FOUR) == 4  # one bar per class
    assert result.image.size == (480, 480) and result.png().startswith(b"\x89PNG")
    row = result.as_dict()
    assert row["class"] == result.label and row["n"] == 60 and row["error"] == ""


def test_ckpt_path_is_loaded(ckpt: Path, clf: PlotClassifier) -> None:
    rng = np.random.default_rng(5)
    f, r = rng.normal(size=30), rng.normal(size=30)
    assert (
        check(fitted=f, residuals=r, ckpt_path=ckpt).probabilities
        == check(fitted=f, residuals=r, classifier=clf).probabilities
    )


def test_top_level_call_is_the_function_and_the_command_module_refuses_import(ckpt: Path) -> None:
    """A fresh interpreter: ``plotlstm.check`` is the lazy library function; ``import plotlstm.check`` (the
    command) is refused in one line, and ``plotlstm.check`` is still the function after it."""
    code = (
        "import types, numpy as np, plotlstm\n"
        "x = np.arange(20.0)\n"
        "assert isinstance(plotlstm.check, types.FunctionType)\n"
        f"before = plotlstm.check(fitted=x, residuals=np.sin(x), ckpt_path=r'{ckpt}')\n"
        "try:\n"
        "    import plotlstm.check\n"
        "    raise SystemExit('imported')\n"
        "except ImportError as err:\n"
        "    assert 'plotlstm.check(fit)' in str(err) and '\\n' not in str(err), err\n"
        "from plotlstm import check\n"
        "assert check is plotlstm.check and isinstance(check, types.FunctionType)\n"
        f"after = plotlstm.check(fitted=x, residuals=np.sin(x), ckpt_path=r'{ckpt}')\n"
        "assert after.probabilities == before.probabilities\n"
        "print(type(after).__name__, after.label)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    name, label = proc.stdout.split()
    assert name == "CheckResult" and label in FOUR
