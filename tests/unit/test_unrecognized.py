"""Not a residual plot: the flat-image and confidence rules, the generator's non-plot class, the labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from plotlstm.data.images import image_to_uint8
from plotlstm.errors import SettingsMismatchError
from plotlstm.inference.results import Prediction
from plotlstm.inference.unrecognized import UNRECOGNIZED, decide, is_flat
from plotlstm.synth.generator import generate, make_plot
from plotlstm.synth.negatives import KINDS, NEGATIVE_CLASS, make_negative, negative_rng
from plotlstm.synth.negatives import REVISION as NEGATIVES_REVISION
from plotlstm.synth.render import _region
from plotlstm.synth.style import resolve_style

CLASSES = ["biased", "ceiling", "none", "outlier"]


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (1, 1), (10, 200, 30)),  # one pixel, three different channel values
        Image.new("RGB", (480, 480), (255, 255, 255)),
        Image.new("RGB", (640, 480), (0, 0, 0)),
        Image.new("L", (50, 70), 128),
    ],
)
def test_flat_images_are_unrecognized(image: Image.Image) -> None:
    x = image_to_uint8(image, 64, "bilinear")
    assert is_flat(x) and is_flat(x.float() / 255)
    assert decide([0.97, 0.01, 0.01, 0.01], CLASSES, x) == UNRECOGNIZED


def test_a_plot_is_not_flat_and_keeps_its_class() -> None:
    x = image_to_uint8(make_plot(0, "none", 0, "r"), 64, "bilinear")
    assert not is_flat(x)
    assert decide([0.1, 0.1, 0.7, 0.1], CLASSES, x) == "none"
    assert decide([0.1, 0.1, 0.7, 0.1], CLASSES, x, min_confidence=0.8) == UNRECOGNIZED
    assert decide([0.1, 0.1, 0.1, 0.7], [*CLASSES[:3], UNRECOGNIZED]) == UNRECOGNIZED


def test_min_spoiled_answers_none_below_it() -> None:
    # classes biased, ceiling, none, outlier: 1 - P(none) is 0.6 here
    assert decide([0.5, 0.05, 0.4, 0.05], CLASSES) == "biased"
    assert decide([0.5, 0.05, 0.4, 0.05], CLASSES, min_spoiled=0.55) == "biased"
    assert decide([0.5, 0.05, 0.4, 0.05], CLASSES, min_spoiled=0.65) == "none"
    assert decide([0.1, 0.1, 0.7, 0.1], CLASSES, min_spoiled=0.9) == "none"  # already none
    with_unrec = [*CLASSES, UNRECOGNIZED]
    assert decide([0.1, 0.0, 0.3, 0.0, 0.6], with_unrec, min_spoiled=0.9) == UNRECOGNIZED
    assert decide([0.5, 0.05, 0.4, 0.05], CLASSES, min_confidence=0.6, min_spoiled=0.9) == UNRECOGNIZED


def test_confidence_of_a_rule_made_label() -> None:
    p = Prediction("x.png", UNRECOGNIZED, {"none": 0.7, "biased": 0.3})
    assert p.confidence == pytest.approx(0.3)
    assert Prediction("x.png", "none", {"none": 0.7, "biased": 0.3}).confidence == 0.7


def test_negatives_are_deterministic_and_cycle_through_the_kinds() -> None:
    images = [np.asarray(make_negative(3, i, "general")) for i in range(len(KINDS))]
    again = [np.asarray(make_plot(3, NEGATIVE_CLASS, i, "general")) for i in range(len(KINDS))]
    assert all(np.array_equal(a, b) for a, b in zip(images, again, strict=True))
    assert len({a.tobytes() for a in images}) == len(KINDS)
    assert not np.array_equal(np.asarray(make_negative(4, 0, "r")), np.asarray(make_negative(3, 0, "r")))
    for a in images:
        assert a.ndim == 3 and a.shape[2] == 3 and a.dtype == np.uint8
        assert not is_flat(torch.from_numpy(a.copy()).permute(2, 0, 1))


def test_generator_writes_the_unrecognized_class(tmp_path) -> None:
    root = generate(
        tmp_path, classes=["none", NEGATIVE_CLASS], train_per_class=2, test_per_class=1, workers=1
    )
    assert len(list((root / "train" / NEGATIVE_CLASS).glob("*.png"))) == 2
    manifest = (root / "manifest.csv").read_text().splitlines()
    assert any(line.startswith(f"{NEGATIVE_CLASS},train,0,0,0,0,") for line in manifest)
    # the negatives' revision is part of the settings: a set drawn by an older revision is not resumed
    path = root / "generator.json"
    settings = json.loads(path.read_text())
    assert settings["negatives"] == NEGATIVES_REVISION >= 2
    del settings["negatives"]
    path.write_text(json.dumps(settings))
    with pytest.raises(SettingsMismatchError, match=rf"^negatives: .*negatives=1, not {NEGATIVES_REVISION}"):
        generate(root, classes=["none", NEGATIVE_CLASS], train_per_class=2, test_per_class=1, workers=1)
    plain = generate(tmp_path / "plain", classes=["none"], train_per_class=1, test_per_class=1, workers=1)
    assert "negatives" not in json.loads((plain / "generator.json").read_text())


@pytest.mark.parametrize("kind", ["box", "lines", "histogram", "bars"])
def test_charts_have_tick_labels_like_the_residual_plots(kind: str) -> None:
    """Charts drawn on axes carry tick labels left of the y axis, as every renderer's charts and the residual
    plots do, so that their absence never tells the class."""
    index = KINDS.index(kind)
    st = resolve_style("r", negative_rng(0, index))
    left, top, _, bottom, _ = _region(st)
    a = np.asarray(make_negative(0, index, "r").convert("L"), dtype=np.int32)
    strip = a[int(top) : int(bottom), int(left) - 20 : int(left) - 3]  # where R's y tick labels stand
    assert (strip < 128).sum() > 20


def test_classifier_and_service_answer_unrecognized(tmp_path) -> None:
    from plotlstm.inference.classifier import PlotClassifier
    from plotlstm.models.checkpoint import Checkpoint
    from plotlstm.models.module import PlotLitModule
    from plotlstm.service.app import to_results

    torch.manual_seed(0)
    model = PlotLitModule(num_classes=2, class_names=["none", "ceiling"], image_size=16)
    plot, blank = make_plot(0, "none", 0, "r"), Image.new("RGB", (1, 1), (255, 255, 255))
    clf = PlotClassifier(model.net, model.class_names, 16, device="cpu")
    p_plot, p_blank = clf.predict([plot, blank])
    assert p_plot.label in ("none", "ceiling") and p_blank.label == UNRECOGNIZED
    assert set(p_blank.probabilities) == {"none", "ceiling"}
    images = [clf.prepare(plot), clf.prepare(blank)]
    served = to_results(clf, list(clf.predict_batch(images)), images)
    assert [r["class"] for r in served] == [p_plot.label, UNRECOGNIZED]
    # a confidence threshold stored in the checkpoint: two near-even classes fall below 0.99
    path = Checkpoint.save(model, tmp_path / "m.ckpt", unrecognized={"min_confidence": 0.99})
    strict = PlotClassifier.from_checkpoint(path, device="cpu")
    assert strict.min_confidence == 0.99 and strict.predict(plot).label == UNRECOGNIZED
    assert strict.min_spoiled == 0.0
    # a verdict threshold stored in the checkpoint: a violation needs 1 - P(none) >= 0.999
    path = Checkpoint.save(model, tmp_path / "v.ckpt", verdict={"min_spoiled": 0.999})
    cautious = PlotClassifier.from_checkpoint(path, device="cpu")
    assert cautious.min_spoiled == 0.999
    assert [p.label for p in cautious.predict([plot, blank])] == ["none", UNRECOGNIZED]


def test_parallel_generation_draws_unrecognized_as_make_plot(tmp_path) -> None:
    root = generate(
        tmp_path, classes=["none", NEGATIVE_CLASS], train_per_class=40, test_per_class=1, workers=2
    )
    path = root / "train" / NEGATIVE_CLASS / f"{NEGATIVE_CLASS}_000039.png"
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), np.asarray(make_negative(0, 39, "r")))
