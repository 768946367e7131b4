"""``Checkpoint``: one read per command, run folders resolved without reading weights, no import back up."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import torch

from plotlstm.errors import CheckpointError
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.evaluation import evaluate
from plotlstm.models.checkpoint import Checkpoint, find

PACKAGE = Path(__file__).resolve().parents[2] / "plotlstm"


def count_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = torch.load

    def load(f, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        calls.append(str(f))
        return real(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    return calls


def run_folder(tmp_path: Path, four_class_ckpt: Path, with_metrics: bool) -> Path:
    """A training run's layout: checkpoints/epochNN.ckpt twice, last.ckpt naming the best, maybe metrics.json."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    raw = torch.load(four_class_ckpt, weights_only=True)
    best = run / "checkpoints" / "epoch03.ckpt"
    torch.save(raw, best)
    torch.save(raw, run / "checkpoints" / "epoch01.ckpt")
    torch.save(
        raw | {"callbacks": {"ModelCheckpoint": {"best_model_path": str(best)}}},
        run / "checkpoints" / "last.ckpt",
    )
    if with_metrics:
        (run / "metrics.json").write_text(json.dumps({"best_checkpoint": str(best)}))
    return run


def test_evaluate_reads_a_run_folder_once(
    tmp_path: Path, four_class_ckpt: Path, tiny_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = run_folder(tmp_path, four_class_ckpt, with_metrics=True)
    calls = count_loads(monkeypatch)
    result = evaluate(str(run), tiny_root, split="test", device="cpu")
    assert calls == [str(run / "checkpoints" / "epoch03.ckpt")]
    assert result["checkpoint"] == str(run / "checkpoints" / "epoch03.ckpt")


def test_a_run_without_metrics_finds_its_best_through_last(tmp_path: Path, four_class_ckpt: Path) -> None:
    run = run_folder(tmp_path, four_class_ckpt, with_metrics=False)
    assert find(run) == run / "checkpoints" / "epoch03.ckpt"
    assert find(run / "checkpoints") == run / "checkpoints" / "epoch03.ckpt"


def test_one_read_gives_network_classes_and_rules(
    four_class_ckpt: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_loads(monkeypatch)
    ckpt = Checkpoint.open(four_class_ckpt)
    classifier = PlotClassifier.from_checkpoint(ckpt, device="cpu")
    assert len(calls) == 1
    assert classifier.classes == ckpt.classes == ["biased", "ceiling", "none", "outlier"]
    assert ckpt.preprocessing == (classifier.image_size, classifier.interpolation)
    with pytest.raises(CheckpointError, match=r"^init_weights: .* was trained on classes"):
        Checkpoint.open(four_class_ckpt, "init_weights").require_classes(["a", "b"], "data/x")


def test_errors_name_the_field(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"^init_weights: .*junk.ckpt is not a readable checkpoint"):
        Checkpoint.open(junk, "init_weights")
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match=r"^ckpt_path: .* is not a plotlstm checkpoint"):
        Checkpoint.open(tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match=r"^ckpt_path: .*missing does not exist"):
        Checkpoint.open(tmp_path / "missing")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("lower", ["models", "data", "synth"])
def test_no_stage_imports_inference_or_the_service(lower: str) -> None:
    """The stages below inference never import it (the tree's import graph has no back edge)."""
    for path in (PACKAGE / lower).glob("*.py"):
        upward = {m for m in imports(path) if m.startswith(("plotlstm.inference", "plotlstm.service"))}
        assert not upward, f"{path.name} imports {upward}"
