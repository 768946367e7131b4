"""``python -m plotlstm.check``: formula and column inputs, CSV and Parquet, outputs, and one-line bad input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from plotlstm.cli import check_command
from plotlstm.inference.check import check

FOUR = ["biased", "ceiling", "none", "outlier"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ckpt(four_class_ckpt: Path) -> Path:
    return four_class_ckpt


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data set with a factor, and the two columns of a fit made elsewhere."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.uniform(size=n), "group": rng.choice(["a", "b", "c"], size=n)}
    )
    frame["y"] = 1 + 2 * frame.x1 - frame.x2 + (frame.group == "b") + rng.standard_normal(n)
    frame["yhat"] = rng.normal(size=n)
    frame["res"] = rng.gamma(1.0, size=n)
    path = tmp_path_factory.mktemp("data") / "data [1].csv"  # rich markup characters in the name
    frame.to_csv(path, index=False)
    return path


def run_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["plotlstm-check", f"hydra.run.dir={tmp_path / 'hydra'}", *args])
    check_command()


def test_formula_prints_the_verdict_and_writes_json_and_the_plot(
    ckpt: Path,
    table: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pandas as pd
    import statsmodels.formula.api as smf

    out, plot = tmp_path / "out" / "v.json", tmp_path / "plot.png"
    formula = "y ~ x1 + x2 + C(group)"
    run_main(
        monkeypatch,
        tmp_path,
        f"input='{table}'",
        f"formula='{formula}'",
        f"ckpt_path={ckpt}",
        f"output={out}",
        f"plot={plot}",
    )
    printed = capsys.readouterr().out
    expected = check(smf.ols(formula, pd.read_csv(table)).fit(), ckpt_path=ckpt)
    row = json.loads(out.read_text())["results"][0]
    assert row["name"] == formula and row["class"] == expected.label and row["n"] == 120
    assert row["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    assert formula in printed and expected.label in printed
    assert np.array_equal(np.asarray(Image.open(plot)), np.asarray(expected.image))


def test_columns_from_parquet_and_csv_agree(
    ckpt: Path, table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "data.parquet"
    pd.read_csv(table).to_parquet(parquet)
    rows = []
    for source in (table, parquet):
        out = tmp_path / f"{source.suffix[1:]}.csv"
        run_main(
            monkeypatch,
            tmp_path,
            f"input='{source}'",
            "fitted=yhat",
            "residuals=res",
            f"ckpt_path={ckpt}",
            f"output={out}",
        )
        with out.open() as f:
            rows.append(next(csv.DictReader(f)))
    assert rows[0] == rows[1] and rows[0]["name"] == "yhat / res"
    assert rows[0]["class"] in FOUR and rows[0]["n"] == "120" and rows[0]["error"] == ""


def test_module_runs_as_a_command(ckpt: Path, table: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "plotlstm.check", f"input='{table}'", "formula=y ~ x1", f"ckpt_path={ckpt}"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "y ~ x1" in proc.stdout and any(c in proc.stdout for c in FOUR)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "input: give a .csv or .parquet file"),
        (["input={tmp}/missing.csv", "formula='y ~ x1'"], "missing.csv does not exist"),
        (["input={tmp}/notes.txt", "formula='y ~ x1'"], "notes.txt must be a .csv or .parquet file"),
        (["input='{table}'"], 'give formula="y ~ x1 + x2" or both fitted=COL and residuals=COL'),
        (
            ["input='{table}'", "formula='y ~ x1'", "fitted=yhat"],
            "give formula=... or fitted=COL residuals=COL, not both",
        ),
        (["input='{table}'", "formula='y ~ x1 +'"], "formula 'y ~ x1 +' does not parse: expected a noun"),
        (
            ["input='{table}'", "formula=y ~ x1 + x9"],
            "formula 'y ~ x1 + x9': 'x9' is not a column of data [1].csv",
        ),
        (
            ["input='{table}'", "formula=y ~ x1 + C(grp, Treatment('a'))"],
            "'grp' is not a column of data [1].csv",
        ),
        (["input='{table}'", "formula='x1 + x2'"], "expected 'response ~ terms'"),
        (
            ["input='{table}'", "formula=y ~ sinc(x2)"],
            "term 'sinc(x2)' calls 'sinc', which is not an allowed transform",
        ),
        (
            ["input='{table}'", "fitted=yhat", "residuals=resid"],
            "'resid' is not a column of data [1].csv (columns: x1, x2",
        ),
        (
            ["input={short}", "fitted=a", "residuals=b"],
            "only 5 observations: a residual plot needs at least 10",
        ),
        (["input={gaps}", "fitted=a", "residuals=b"], "fitted has 2 NaN or infinite values (rows 2, 4)"),
        (["input='{table}'", "formula='y ~ x1'", "output={tmp}/v.txt"], "v.txt must end in .csv or .json"),
        (["input='{table}'", "formula='y ~ x1'", "ckpt_path={tmp}/none.ckpt"], "none.ckpt does not exist"),
    ],
)
def test_bad_input_is_one_line(
    ckpt: Path,
    table: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    (tmp_path / "short.csv").write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(5)))
    (tmp_path / "gaps.csv").write_text(
        "a,b\n" + "".join(f"{'' if i in (2, 4) else i},{i}\n" for i in range(20))
    )
    args = [
        a.format(tmp=tmp_path, table=table, short=tmp_path / "short.csv", gaps=tmp_path / "gaps.csv")
        for a in args
    ]
    if not any(a.startswith("ckpt_path=") for a in args):
        args.append(f"ckpt_path={ckpt}")
    with pytest.raises(SystemExit) as info:
        run_main(monkeypatch, tmp_path, *args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and expected in err[-1], err
    assert "Traceback" not in "\n".join(err)


def test_gaps_are_dropped_on_request(
    ckpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("a,b\n" + "".join(f"{'' if i in (2, 4) else i},{np.sin(i)}\n" for i in range(20)))
    run_main(
        monkeypatch,
        tmp_path,
        f"input={gaps}",
        "fitted=a",
        "residuals=b",
        "drop_nonfinite=true",
        f"ckpt_path={ckpt}",
    )
    assert "18 (-2)" in capsys.readouterr().out
