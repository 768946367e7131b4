"""benchmarks/heldout.py on a few plots: it draws the preset's plots by id, reuses them, and reports."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
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


def test_goal_plots_are_the_design_plots_the_goals_speak_of() -> None:
    from plotlstm.synth.designs import VISIBLE_STRENGTH
    from plotlstm.synth.simulate import Header

    design = Header(250, 0, 0, "uniform", 0.3)  # plot_header's answer for a design plot
    assert heldout.goal_plot("none", design)
    assert not heldout.goal_plot("none", Header(199, 0, 0, "uniform", 0.3))  # correct fits: n >= 200
    assert heldout.goal_plot("outlier", Header(300, 0, 0, "uniform/spike", VISIBLE_STRENGTH))
    assert not heldout.goal_plot("outlier", Header(299, 0, 0, "uniform/spike", 0.9))  # violations: n >= 300
    assert not heldout.goal_plot("outlier", Header(5000, 0, 0, "uniform/spike", VISIBLE_STRENGTH - 0.01))
    assert not heldout.goal_plot("outlier", Header(5000, 3, 1, "spike", 0.9))  # the reference's process
    assert not heldout.goal_plot("none", Header(5000, 3, 1))
    assert not heldout.goal_plot("unrecognized", Header(0, 0, 0))  # a non-plot


def test_the_widened_preset_reports_its_goal_plots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = range(30000, 30003)
    files, truth, ns, goal = heldout.held_out(ids, tmp_path, 1, "general_designs")
    assert len(files) == 7 * 3 and goal.dtype == bool and not goal[truth == "unrecognized"].any()
    assert not goal[ns < 200].any() and not goal[(truth != "none") & (ns < 300)].any()
    # these ids hold 1 correct fit of n >= 200 and 2 visible violations of n >= 300
    assert goal.sum() == 3 and goal[truth == "none"].sum() == 1
    labels = np.where(goal, truth, "unrecognized")  # right on the goals' plots only
    labels[goal & (truth == "none")] = "outlier"  # but the correct fit flagged
    heldout.report("x", labels, np.ones(len(truth)), truth, ns, goal)
    out = capsys.readouterr().out
    assert (
        "the goals' plots: 66.67% of 3; correct fits flagged 100.00% of 1, violations named 100.00% of 2"
        in out
    )
    heldout.report("x", labels, np.ones(len(truth)), truth, ns, np.zeros_like(goal))
    assert "the goals' plots" not in capsys.readouterr().out  # the reference's preset has none
