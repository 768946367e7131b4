"""The bundled model: it loads weights-only, its sha256 is the model card's, the card's figures hold, and the
commands use it when no checkpoint is given."""

from __future__ import annotations

import hashlib
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from plotlstm.inference.classifier import BUNDLED_MODEL, PlotClassifier
from plotlstm.inference.unrecognized import UNRECOGNIZED
from plotlstm.synth.generator import make_plot

ROOT = Path(__file__).resolve().parents[2]
CARD = ROOT / "docs" / "model-card.md"


def card_text() -> str:
    return CARD.read_text()


def card_accuracy(renderer: str) -> tuple[int, float]:
    """(n, accuracy) of ``renderer``'s row in the card's renderers table."""
    match = re.search(rf"^\| {renderer} \| (\d+) \| ([\d.]+)% \|", card_text(), re.MULTILINE)
    assert match, f"no {renderer} row in {CARD}"
    return int(match.group(1)), float(match.group(2)) / 100


def test_file_loads_weights_only_and_is_small() -> None:
    assert BUNDLED_MODEL.stat().st_size < 5_000_000
    ckpt = torch.load(BUNDLED_MODEL, map_location="cpu", weights_only=True)
    assert {"state_dict", "hyper_parameters"} <= set(ckpt)
    clf = PlotClassifier.pretrained(device="cpu")
    assert clf.classes == list(ckpt["hyper_parameters"]["class_names"])
    assert UNRECOGNIZED in clf.classes and "none" in clf.classes
    assert 0.0 <= clf.min_confidence < 1.0


def test_sha256_is_the_cards() -> None:
    digest = hashlib.sha256(BUNDLED_MODEL.read_bytes()).hexdigest()
    named = re.findall(r"sha256[^`]*`([0-9a-f]{64})`", card_text())
    assert named == [digest], f"{CARD} names {named}, the file's sha256 is {digest}"


def test_given_checkpoint_still_wins(tmp_path: Path) -> None:
    from plotlstm.models.checkpoint import Checkpoint
    from plotlstm.models.module import PlotLitModule

    path = Checkpoint.save(
        PlotLitModule(num_classes=2, class_names=["a", "b"], image_size=16), tmp_path / "x.ckpt"
    )
    assert PlotClassifier.load(path).classes == ["a", "b"]
    assert PlotClassifier.load(None).checkpoint == str(BUNDLED_MODEL)


def test_predict_without_ckpt_path_uses_the_bundled_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from plotlstm.predict import main

    make_plot(0, "ceiling", 0, "r").save(tmp_path / "plot.png")
    out = tmp_path / "preds.json"
    monkeypatch.setattr(
        sys,
        "argv",
        ["plotlstm-predict", f"inputs=[{tmp_path / 'plot.png'}]", f"output={out}", "progress=false"],
    )
    main()
    import json

    data = json.loads(out.read_text())
    assert data["classes"] == PlotClassifier.pretrained().classes
    assert data["predictions"][0]["class"] in data["classes"]


@pytest.mark.slow
def test_benchmark_sample_agrees_with_the_card() -> None:
    """The first few plots per class of the card's own benchmark sample (same seed: the same images), matplotlib
    and seaborn: their accuracy lies within sampling error (3 standard errors) of the card's."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import renderers

    clf = PlotClassifier.pretrained(device="cpu")
    result = renderers.run(clf, ["matplotlib", "seaborn"], per_class=4, negatives_per_kind=0)
    for name in ("matplotlib", "seaborn"):
        _, p = card_accuracy(name)
        got = result["renderers"][name]
        n = got["n"]
        tolerance = 3 * math.sqrt(max(p * (1 - p), 0.02) / n) + 1 / n
        assert abs(got["accuracy"] - p) <= tolerance, (name, got["accuracy"], p, tolerance)


def test_serve_and_evaluate_without_ckpt_path_use_the_bundled_model(tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir

    from plotlstm.inference.evaluation import evaluate
    from plotlstm.serve import build_app
    from plotlstm.synth.generator import generate

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("serve", overrides=["device=cpu"])
    assert build_app(cfg).state.classifier.checkpoint == str(BUNDLED_MODEL)
    root = generate(
        tmp_path / "d", classes=["none", UNRECOGNIZED], train_per_class=1, test_per_class=3, workers=1
    )
    result = evaluate(None, root, device="cpu")
    assert result["checkpoint"] == str(BUNDLED_MODEL) and result["n"] == 6


def test_the_previous_default_is_bundled_and_named() -> None:
    from plotlstm.errors import CheckpointError
    from plotlstm.inference.check import check
    from plotlstm.inference.classifier import BUNDLED

    assert BUNDLED["designs"] == BUNDLED_MODEL and PlotClassifier.load("designs").checkpoint == str(
        BUNDLED_MODEL
    )
    path = BUNDLED["general"]
    assert path != BUNDLED_MODEL and path.stat().st_size < 5_000_000
    general = PlotClassifier.load("general", device="cpu")
    assert general.checkpoint == str(path) and general.classes == PlotClassifier.pretrained().classes
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"`{digest[:8]}...{digest[-4:]}`" in card_text()  # the card names it
    x = np.arange(40.0)
    assert check(fitted=x, residuals=np.sin(x), ckpt_path="general", null_plots=0).label in general.classes
    with pytest.raises(CheckpointError, match="no bundled model 'nope'"):
        PlotClassifier.pretrained("nope")
