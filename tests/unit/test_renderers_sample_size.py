"""benchmarks/renderers.py's sample size options: small-n plots in their own cache folder, the default's unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from plotlstm.synth.simulate import DEFAULT_SAMPLE_SIZE, SampleSize

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import renderers  # noqa: E402


def test_cache_folder_keeps_the_default_and_names_other_sample_sizes(tmp_path: Path) -> None:
    assert renderers.cache_folder(tmp_path, 10_000) == tmp_path / "seed10000"
    assert renderers.cache_folder(tmp_path, 10_000, DEFAULT_SAMPLE_SIZE) == tmp_path / "seed10000"
    small = SampleSize(20, 500, "log")
    assert renderers.cache_folder(tmp_path, 10_000, small) == tmp_path / "seed10000-n20-500-log"
    assert renderers.cache_folder(tmp_path, 3, SampleSize(20, 500)) == tmp_path / "seed3-n20-500-uniform"


def test_draw_with_a_sample_size_draws_other_plots_into_their_own_folder(tmp_path: Path) -> None:
    small = SampleSize(20, 30, "log")
    default = renderers.draw("matplotlib", ["none"], 1, cache=tmp_path)
    few = renderers.draw("matplotlib", ["none"], 1, cache=tmp_path, sample=small)
    assert (tmp_path / "seed10000" / "matplotlib" / "none_00000.png").is_file()
    assert (tmp_path / "seed10000-n20-30-log" / "matplotlib" / "none_00000.png").is_file()
    a, b = np.asarray(default[0][1]), np.asarray(few[0][1])
    assert a.shape != b.shape or not np.array_equal(a, b)
    again = renderers.draw(
        "matplotlib", ["none"], 1, cache=tmp_path, sample=small
    )  # read back from the cache
    assert np.array_equal(np.asarray(again[0][1]), b)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n-range", "5", "100"], "--n-range: low 5 is below 10"),
        (["--n-range", "300", "200"], "--n-range: [300, 200] has low > high"),
        (["--n-scale", "exp"], "--n-scale: invalid choice: 'exp'"),
    ],
)
def test_bad_sample_size_is_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        renderers.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_score_gives_a_wilson_interval_that_narrows_with_n() -> None:
    """99 right of 100 and 990 of 1,000: the same accuracy, an interval around it, narrower for more plots."""
    small = renderers.score(["none"] * 100, ["none"] * 99 + ["biased"], ["none"])
    large = renderers.score(["none"] * 1000, ["none"] * 990 + ["biased"] * 10, ["none"])
    for r in (small, large):
        low, high = r["interval"]
        assert low < r["accuracy"] == 0.99 < high <= 1.0
    assert large["interval"][1] - large["interval"][0] < small["interval"][1] - small["interval"][0]
    # Wilson, not the normal approximation (0.970)
    assert small["interval"][0] == pytest.approx(0.9455, abs=1e-3)


def test_against_pairs_two_checkpoints_on_the_same_plots() -> None:
    """``against``: the paired counts agree with each file's own accuracy on the same plots, and a file against
    itself differs on none (McNemar p 1)."""
    from plotlstm.inference.classifier import PlotClassifier

    designs = PlotClassifier.load("designs", device="cpu")
    general = PlotClassifier.load("general", device="cpu")
    result = renderers.run(designs, ["matplotlib"], per_class=2, negatives_per_kind=0, against=general)
    pair, n = result["paired"], result["all_renderers"]["n"]
    gain = (result["all_renderers"]["accuracy"] - pair["against_accuracy"]) * n
    assert pair["only_it"] - pair["only_against"] == pytest.approx(gain) and 0 <= pair["p"] <= 1
    same = renderers.run(designs, ["matplotlib"], per_class=2, negatives_per_kind=0, against=designs)[
        "paired"
    ]
    assert (same["only_it"], same["only_against"], same["p"]) == (0, 0, 1.0)
