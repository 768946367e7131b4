"""The tour notebook runs top to bottom with tiny settings in a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from plotlstm.synth.simulate import CLASSES
from tests.helpers.notebooks import committed_code_cells

pytestmark = pytest.mark.notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "plotlstm_tour.ipynb"
TINY = """
DATA_ROOT = "data"
RUN_DIR = "run"
TRAIN_PER_CLASS = 3
TEST_PER_CLASS = 2
EPOCHS = 1
BATCH_SIZE = 4
WORKERS = 1
"""


def test_committed_without_outputs() -> None:
    code = committed_code_cells(NOTEBOOK)
    for name in ("TRAIN_PER_CLASS", "EPOCHS", "IMAGE_SIZE", "DATA_ROOT", "RUN_DIR"):
        assert f"{name} = " in code[0].source


def test_notebook_runs_with_tiny_settings(kernel_env: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(params + 1, nbformat.v4.new_code_cell(TINY.strip()))
    nb.cells.append(nbformat.v4.new_code_cell("print('TOUR', TEST_ACCURACY, len(classes), best_checkpoint)"))
    NotebookClient(
        nb, kernel_name="plotlstm-test", timeout=300, resources={"metadata": {"path": str(kernel_env)}}
    ).execute()  # raises CellExecutionError if a cell fails

    out = kernel_env
    assert len(list((out / "data" / "train" / "none").glob("*.png"))) == 3
    assert (out / "run" / "checkpoints" / "last.ckpt").is_file() and (out / "run" / "epoch-log.csv").is_file()
    metrics = json.loads((out / "run" / "evaluation" / "metrics.json").read_text())
    assert metrics["n"] == 2 * len(CLASSES) and sorted(metrics["classes"]) == sorted(CLASSES)  # all six
    assert (out / "run" / "my_plot.png").is_file()

    texts = ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    last = texts[-1].split()
    assert (
        last[0] == "TOUR"
        and float(last[1]) == pytest.approx(metrics["accuracy"])
        and last[2] == str(len(CLASSES))
    )
    assert any("test accuracy" in t for t in texts) and any("my plot ->" in t for t in texts)
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # the class grid, the curves, the confusion matrix, the mistakes
