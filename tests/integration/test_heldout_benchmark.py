"""benchmarks/heldout.py on a few plots: it draws the preset's plots by id, reuses them, and reports."""

from __future__ import annotations

import json
import re
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
    assert "bundled against bundled: 0 only it right, 0 only bundled; McNemar p 1.000" in out
    assert "bundled against bundled (residual plots): 0 only it right, 0 only bundled; McNemar p 1.000" in out
    shares = re.findall(r"residual plots: ([0-9.]+)% of 12, ([0-9.]+)% answered unrecognized", out)
    assert len(shares) == 2 and shares[0] == shares[1]
    recall = dict(re.findall(r"(\w+) ([0-9.]+)%", out.split("of 14 (", 1)[1].split(")", 1)[0]))
    residual = [float(v) for c, v in recall.items() if c != "unrecognized"]  # 2 plots a class each
    assert len(residual) == 6 and float(shares[0][0]) == pytest.approx(sum(residual) / 6, abs=0.01)
    stamp = files[0].stat().st_mtime_ns
    heldout.main(argv)  # the second run draws nothing
    assert files[0].stat().st_mtime_ns == stamp

    drawn_by = json.loads((tmp_path / "drawn_by.json").read_text())
    assert drawn_by["preset"] == "general" and drawn_by["general_style"] >= 2 and "designs" not in drawn_by
    (tmp_path / "drawn_by.json").write_text(json.dumps({**drawn_by, "general_style": 1}))
    with pytest.raises(
        SystemExit, match=rf"^heldout: {re.escape(str(tmp_path))} holds plots drawn with general_style=1"
    ):
        heldout.main(argv)  # a cache another generator drew is refused, not reused
    (tmp_path / "drawn_by.json").unlink()
    with pytest.raises(SystemExit, match=r"holds plots but no drawn_by.json"):
        heldout.main(argv)  # nor one of unknown origin
    (tmp_path / "drawn_by.json").write_text("{not json")
    with pytest.raises(SystemExit, match=r"drawn_by.json is unreadable"):
        heldout.main(argv)
