"""The real-fits notebook runs top to bottom with a tiny model trained in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from plotlstm.inference.classifier import PlotClassifier
from tests.helpers.notebooks import committed_code_cells

pytestmark = pytest.mark.notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "check_real_fits.ipynb"
FITS = 8  # six OLS fits, one GLM, one scikit-learn fit


def test_committed_without_outputs() -> None:
    code = committed_code_cells(NOTEBOOK)
    assert "CKPT = None" in code[0].source  # the bundled model by default
    source = "\n".join(c.source for c in code)
    assert "fetch_" not in source and "get_rdataset" not in source  # bundled data only: nothing downloads


def test_notebook_runs_and_shows_verdicts_beside_the_tests(kernel_env: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('TABLE', table.to_json(orient='index'))"))
    NotebookClient(
        nb, kernel_name="plotlstm-test", timeout=600, resources={"metadata": {"path": str(kernel_env)}}
    ).execute()  # raises CellExecutionError if a cell fails

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any(h.count("data:image/png;base64,") == FITS for h in html)  # the batch shows its plots
    last = "".join(outputs[-1].get("text", ""))
    table = json.loads(last.split("TABLE", 1)[1])
    assert len(table) == FITS
    classes = set(PlotClassifier.pretrained().classes)
    for name, row in table.items():
        assert row["verdict"] in classes and 0 <= row["Jarque-Bera p"] <= 1, name
        assert row["n"] >= 16
    assert table["engel: foodexp ~ income"]["Breusch-Pagan p"] < 1e-10  # the tests ran on the real data
    texts = "".join(o.get("text", "") for o in outputs)
    assert "agree:" in texts
