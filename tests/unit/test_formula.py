"""Formulas are read as formulas: no term runs code (a marker file for each form of the probe), the usual ones fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from plotlstm.errors import CheckError
from plotlstm.inference.formula import check_formula, fit_formula

ATTACKS = [
    'y ~ I(__import__("os").system("touch {m}"))',
    'y ~ __import__("os").system("touch {m}")',
    'y ~ x + I(__import__("os").system("touch {m}"))',
    'y ~ np.os.system("touch {m}")',
    'y ~ x + C(g, __import__("os").system("touch {m}"))',
    'y ~ I(open("{m}", "w").close())',
    "y ~ x.__class__.__base__",
    "y ~ I([c for c in ().__class__.__bases__])",
    '__import__("os").system("touch {m}") ~ x',
    'y ~ eval("1")',
    "y ~ I(x[0])",
    "y ~ I((lambda: 1)())",
    'y ~ Q(x) + exec("import os")',
    'y ~ I(np.load("{m}"))',
]


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": rng.normal(size=40), "x": rng.uniform(1, 5, 40), "g": list("abcd") * 10})


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_formula_runs_code(attack: str, frame: pd.DataFrame, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    formula = attack.format(m=marker)
    with pytest.raises(CheckError, match=r"^formula '.*"):
        fit_formula(frame, formula, "data.csv")
    assert not marker.exists()


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x",
        "y ~ x + C(g)",
        "y ~ np.log(x) + I(x**2) + C(g, Treatment('b'))",
        "y ~ log(x) + sqrt(x) + exp(x / 10)",
        "np.log(x) ~ center(y) + standardize(x) + x:C(g)",
        "y ~ bs(x, df=4)",
        "y ~ (x + C(g))**2 - 1",
        "y ~ Q('x') + I(x > 2)",
    ],
)
def test_ordinary_formulas_fit(formula: str, frame: pd.DataFrame) -> None:
    assert check_formula(formula) == formula
    assert fit_formula(frame, formula, "data.csv").nobs == 40


def test_the_refusal_names_the_term() -> None:
    with pytest.raises(CheckError, match="calls 'getattr', which is not an allowed transform"):
        check_formula("y ~ x + getattr(x, 'a')")
    with pytest.raises(CheckError, match="expected 'response ~ terms'"):
        check_formula("y + x")
