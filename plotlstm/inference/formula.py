"""A model formula read as a formula, never run as a program; a table read and a formula fitted on it.

patsy evaluates each term of a formula as Python code. A formula comes from a config, a shared notebook or a
spreadsheet cell, so before patsy sees it, :func:`check_formula` parses it (patsy's own parser, which evaluates
nothing) and walks every term's Python syntax tree: column names, numbers, arithmetic, and calls of an allow-list
of transforms are accepted; anything else (attributes other than ``np.<transform>``, dunders, subscripts, calls
outside the list, lambdas, comprehensions) is refused in one line naming the term, before any code runs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from plotlstm.errors import CheckError, first_line

TRANSFORMS = frozenset(
    {
        # patsy's own
        "C", "I", "Q", "center", "standardize", "scale", "bs", "cr", "cc", "te",
        "Treatment", "Sum", "Helmert", "Poly", "Diff",
        # numpy's elementwise functions, bare or as np.NAME / numpy.NAME
        "log", "log2", "log10", "log1p", "exp", "expm1", "sqrt", "abs", "sin", "cos", "tan", "arcsin", "arctan",
        "sinh", "cosh", "tanh", "square", "power", "sign", "floor", "ceil", "round", "clip", "minimum", "maximum",
    }
)  # fmt: skip
"""The functions a term may call."""
MODULES = frozenset({"np", "numpy"})
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd)
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def _refuse(formula: str, term: str, why: str) -> CheckError:
    return CheckError(f"formula {formula!r}: term {term!r} {why}; a formula takes column names, numbers, "
                      f"arithmetic and the transforms C(), I(), Q(), log, exp, sqrt, np.log, center, standardize, "
                      f"bs, ...")  # fmt: skip


def _check_node(node: ast.AST, formula: str, term: str) -> None:
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _refuse(formula, term, f"uses the name {node.id!r}")
        return
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool)) or isinstance(node.value, bytes):
            raise _refuse(formula, term, "has a constant that is not a number or a string")
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
        _check_node(node.left, formula, term)
        _check_node(node.right, formula, term)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, _OPERATORS):
        _check_node(node.operand, formula, term)
        return
    if isinstance(node, ast.Compare) and all(isinstance(op, _COMPARE) for op in node.ops):
        for child in (node.left, *node.comparators):
            _check_node(child, formula, term)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
        elif (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in MODULES
        ):
            name = func.attr
        else:
            raise _refuse(formula, term, "calls something that is not a transform")
        if name not in TRANSFORMS:
            raise _refuse(formula, term, f"calls {name!r}, which is not an allowed transform")
        for child in (*node.args, *(k.value for k in node.keywords)):
            _check_node(child, formula, term)
        if any(k.arg is None or k.arg.startswith("_") for k in node.keywords):
            raise _refuse(formula, term, "passes ** or a private keyword")
        return
    if isinstance(node, ast.Attribute):
        raise _refuse(formula, term, f"reads an attribute ({node.attr!r})")
    raise _refuse(formula, term, f"has a {type(node).__name__} expression")


def check_formula(formula: str) -> str:
    """``formula`` when every term is a formula term (see the module docstring), else one line naming the term."""
    from patsy import ModelDesc, PatsyError

    if not isinstance(formula, str) or "~" not in formula:
        raise CheckError(f"formula {formula!r}: expected 'response ~ terms', e.g. 'y ~ x1 + x2 + C(group)'")
    if "\x00" in formula or len(formula) > 10_000:
        raise CheckError("formula: longer than 10,000 characters or with a NUL character")
    try:
        desc = ModelDesc.from_formula(formula)
    except PatsyError as err:
        first = str(err).splitlines()[0]
        raise CheckError(f"formula {formula!r} does not parse: {first}") from None
    codes = [factor.code for term in (*desc.lhs_termlist, *desc.rhs_termlist) for factor in term.factors]
    for code in codes:
        try:
            tree = ast.parse(code, mode="eval")
        except SyntaxError:
            raise _refuse(formula, code, "is not an expression") from None
        _check_node(tree.body, formula, code)
    return formula


INPUT_FORMATS = (".csv", ".parquet", ".pq")


def read_table(path: str | Path) -> Any:
    """A CSV or Parquet file as a pandas DataFrame; one line when it is missing or unreadable."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_FORMATS:
        raise CheckError(f"input: {path} must be a .csv or .parquet file")
    if not path.is_file():
        raise CheckError(f"input: {path} does not exist")
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except ImportError:
        raise CheckError(f"input: reading {path} needs pyarrow (pip install pyarrow)") from None
    except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        first = first_line(err)
        raise CheckError(f"input: {path} is not a readable table ({first})") from None


def fit_formula(frame: Any, formula: str, source: str = "the data") -> Any:
    """``statsmodels.formula.api.ols(formula, frame).fit()``; a bad formula or a missing column is one line."""
    import numpy as np
    import statsmodels
    import statsmodels.formula.api as smf
    from patsy import EvalEnvironment, PatsyError

    check_formula(formula)  # a formula, not a program: refused before patsy evaluates any term
    names: dict[str, Any] = {
        "np": np,
        "numpy": np,
        "__builtins__": {},
    }  # np.log(x) and friends, as in a script
    names |= {name: getattr(np, name) for name in TRANSFORMS if hasattr(np, name) and name[0].islower()}
    version = tuple(int(part) for part in re.findall(r"\d+", statsmodels.__version__)[:2])
    env: Any = names if version >= (0, 15) else EvalEnvironment([names])  # 0.15 deprecates EvalEnvironment
    try:
        return smf.ols(formula, frame, missing="drop", eval_env=env).fit()
    except PatsyError as err:
        first = str(err).splitlines()[0]
        missing = re.search(r"name '([^']+)' is not defined", first)
        columns = ", ".join(map(str, frame.columns))
        if missing:
            raise CheckError(
                f"formula {formula!r}: {missing.group(1)!r} is not a column of {source} (columns: {columns})"
            ) from None
        raise CheckError(f"formula {formula!r} does not parse: {first}") from None
    except (ValueError, TypeError) as err:
        raise CheckError(f"formula {formula!r} cannot be fitted: {' '.join(str(err).split())}") from None
