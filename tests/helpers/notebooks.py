"""Helpers for the notebook tests."""

from __future__ import annotations

from pathlib import Path

import nbformat


def committed_code_cells(path: Path) -> list[nbformat.NotebookNode]:
    """The code cells of the notebook at ``path``, after checking it is valid, committed without outputs, and that
    its first code cell is tagged ``parameters`` (papermill-style)."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    return code
