"""benchmarks/heldout.py on a few plots: it draws the preset's plots by id, reuses them, and reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import heldout  # noqa: E402

from plotlstm.synth.generator import make_plot  # noqa: E402


def test_draws_held_out_ids_and_compares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--ckpt", "bundled", "--ckpt", "bundled", "--ids", "30000", "30002", "--workers", "1"]
    argv += ["--cache", str(tmp_path)]
    heldout.main(argv)
    files = sorted(tmp_path.glob("*/*.png"))
    assert len(files) == 7 * 2 and (tmp_path / "none" / "none_030001.png") in files
    expected = make_plot(7, "none", 30001, "general", None, [20, 10000], "log")
    with Image.open(tmp_path / "none" / "none_030001.png") as saved:
        assert list(expected.getdata()) == list(saved.convert("RGB").getdata())  # the generator's own pixels
    out = capsys.readouterr().out
    assert out.count("of 14 (") == 2 and "n 20-49:" in out
    assert "0 only it right, 0 only bundled; McNemar p 1.000" in out
    stamp = files[0].stat().st_mtime_ns
    heldout.main(argv)  # the second run draws nothing
    assert files[0].stat().st_mtime_ns == stamp
