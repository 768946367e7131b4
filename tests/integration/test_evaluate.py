"""``plotlstm.evaluate``: the command end to end, its files, foreign folders, binary models and bad input."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from plotlstm.errors import CheckpointError, DataError
from plotlstm.evaluate import evaluate, main
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.figures import (
    confusion_matrix_figure,
    contact_sheet,
    read_history,
    run_folder,
    training_curves_figure,
)
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule

ROOT = Path(__file__).resolve().parents[2]
FOUR = ["biased", "ceiling", "none", "outlier"]

# Lightning's CSVLogger output of a real 2-epoch run (step rows, a validation row, an epoch row per epoch)
LIGHTNING_CSV = """epoch,step,train/acc_a,train/acc_epoch,train/acc_step,train/loss_epoch,train/loss_step,val/acc,val/acc_a,val/loss
0,0,,,0.25,,1.30,,,
0,2,,,,,,0.33,0.0,1.17
0,2,0.0,0.25,,1.27,,,,
1,3,,,0.25,,1.22,,,
1,5,,,,,,0.5,1.0,1.10
1,5,0.0,0.40,,1.20,,,,
"""


def make_checkpoint(path: Path, classes: list[str], image_size: int = 32, seed: int = 0) -> Path:
    """A small untrained PlotLitModule saved as Lightning does (weights and hyper-parameters)."""
    torch.manual_seed(seed)
    m = PlotLitModule(len(classes), classes, image_size=image_size, net=dict(lstm_size=8, hidden_size=4))
    return Checkpoint.save(m, path)


def make_images(folder: Path, n: int, seed: int = 0, size: tuple[int, int] = (60, 40)) -> list[Path]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"img_{i}.png"
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def run_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["plotlstm-evaluate", f"hydra.run.dir={tmp_path / 'hydra'}", *args])
    main()


def assert_png(path: Path) -> Image.Image:
    assert path.is_file(), path
    with Image.open(path) as img:
        img.verify()
    img = Image.open(path)
    assert img.format == "PNG" and img.width > 20 and img.height > 20
    return img


def gallery_sources(out: Path) -> list[Path]:
    """The thumbnails the HTML page shows, each checked to lie inside ``out``."""
    page = (out / "misclassified.html").read_text()
    assert "href=" not in page  # nothing links out of the folder
    sources = [out / s for s in re.findall(r'<img src="([^"]+)"', page)]
    for s in sources:
        assert s.resolve().is_relative_to(out.resolve()) and s.is_file(), s
    return sources


@pytest.fixture(scope="module")
def trained_run(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-epoch training run (small model, 64-pixel images) with its checkpoints and logs."""
    from plotlstm.train import train

    run = tmp_path_factory.mktemp("train") / "run"
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            config_name="train",
            overrides=[
                f"data.root={tiny_root}",
                f"synth.root={tiny_root}",
                f"paths.output_dir={run}",
                "~callbacks.rich_progress_bar",
                "callbacks.early_stopping=null",
                "logger=csv",
                "trainer.max_epochs=2",
                "data.image_size=64",
                "data.batch_size=8",
                "model.net.lstm_size=16",
                "model.net.hidden_size=8",
                "test=false",
            ],
        )
    train(cfg)
    return run


def test_cli_end_to_end(trained_run: Path, tiny_root: Path, tmp_path: Path) -> None:
    """The command on a training run folder writes everything into its Hydra run folder by default."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PLOTLSTM_LOGS": str(tmp_path / "logs")}
    proc = subprocess.run(
        [sys.executable, "-m", "plotlstm.evaluate", f"ckpt_path={trained_run}", f"data.root={tiny_root}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (out,) = (tmp_path / "logs" / "evaluate" / "runs").iterdir()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == FOUR and metrics["n"] == 8 and metrics["data"] == str(tiny_root / "test")
    assert Path(metrics["checkpoint"]).parent == trained_run / "checkpoints"
    cm = metrics["confusion_matrix"]
    assert sum(map(sum, cm)) == 8 and [sum(row) for row in cm] == [2, 2, 2, 2]
    assert metrics["accuracy"] == pytest.approx(sum(cm[i][i] for i in range(4)) / 8)
    assert metrics["misclassified"] == 8 - sum(cm[i][i] for i in range(4))
    assert set(metrics["per_class"]) == set(FOUR) and set(metrics["macro"]) == {
        "precision",
        "recall",
        "f1",
        "auc",
    }
    assert metrics["loss"] > 0
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 8 and sum(r["true"] != r["class"] for r in rows) == metrics["misclassified"]
    # the library gives the same probabilities for the same files
    classifier = PlotClassifier.from_checkpoint(trained_run, device="cpu")
    for row, pred in zip(rows, classifier.predict([r["path"] for r in rows]), strict=True):
        assert pred.label == row["class"]
        assert [pred.probabilities[c] for c in FOUR] == pytest.approx(
            [float(row[f"p_{c}"]) for c in FOUR], abs=1e-6
        )
    for name in ("confusion_matrix.png", "training_curves.png", "misclassified.png"):
        assert_png(out / name)
    assert len(gallery_sources(out)) == metrics["misclassified"]
    assert set(metrics["files"]) >= {"metrics", "confusion_matrix", "training_curves", "misclassified_html"}
    assert "accuracy" in proc.stdout and "precision" in proc.stdout and "metrics.json" in proc.stdout
    for c in FOUR:
        assert c in proc.stdout


def test_gallery_on_a_folder_with_known_mistakes(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every plot appears under two classes, so at least half of the copies must be misclassified."""
    data = tmp_path / "dup"
    for src in sorted((tiny_root / "test").rglob("*.png")):
        for cls in ("none", "outlier"):
            (data / cls).mkdir(parents=True, exist_ok=True)
            shutil.copy(src, data / cls / f"{src.parent.name}_{src.name}")
    ckpt = make_checkpoint(tmp_path / "m.ckpt", FOUR)
    out = tmp_path / "out"
    run_main(monkeypatch, tmp_path, f"ckpt_path={ckpt}", f"data.root={data}", "split=null", f"out_dir={out}")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 16 and metrics["misclassified"] >= 8
    assert metrics["per_class"]["biased"]["support"] == 0 and metrics["per_class"]["biased"]["auc"] is None
    thumbs = gallery_sources(out)
    assert len(thumbs) == metrics["misclassified"]
    for t in thumbs:
        assert max(assert_png(t).size) <= 160
    sheet = assert_png(out / "misclassified.png")
    assert sheet.width > 2 * 128
    assert not (out / "training_curves.png").exists()  # a loose checkpoint has no training log
    assert not list(out.glob(".*tmp*"))
    # the gallery's size is capped; the count in metrics.json is not
    out2 = tmp_path / "out2"
    run_main(
        monkeypatch,
        tmp_path,
        f"ckpt_path={ckpt}",
        f"data.root={data}",
        "split=null",
        f"out_dir={out2}",
        "gallery.max_images=2",
    )
    assert len(gallery_sources(out2)) == 2
    assert json.loads((out2 / "metrics.json").read_text())["misclassified"] == metrics["misclassified"]


def test_foreign_imagefolder_with_a_subset_of_classes(tmp_path: Path) -> None:
    """Plots that plotlstm did not draw: other sizes, modes and formats, only some of the classes."""
    data = tmp_path / "mine"
    make_images(data / "outlier", 3, seed=1, size=(1000, 300))
    (data / "none").mkdir(parents=True)
    Image.new("L", (50, 80), 128).save(data / "none" / "grey.jpg")
    Image.new("RGBA", (90, 90), (255, 0, 0, 100)).save(data / "none" / "rgba.png")
    ckpt = make_checkpoint(tmp_path / "m.ckpt", FOUR)
    result = evaluate(ckpt, data, split=None, device="cpu", batch_size=2)
    assert result["n"] == 5 and result["files"] == {}
    support = {c: result["per_class"][c]["support"] for c in FOUR}
    assert support == {"biased": 0, "ceiling": 0, "none": 2, "outlier": 3}
    assert not list(tmp_path.glob("*.json"))  # no out_dir: nothing written


def test_binary_checkpoint(binary_root: Path, tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path / "b.ckpt", ["ceiling", "none"])
    result = evaluate(ckpt, binary_root, out_dir=tmp_path / "out", device="cpu")
    assert result["classes"] == ["ceiling", "none"] and result["n"] == 4
    assert len(result["confusion_matrix"]) == 2 and sum(map(sum, result["confusion_matrix"])) == 4
    # the loss is the model's BCE on its single logit
    rows = list(csv.DictReader((tmp_path / "out" / "predictions.csv").open()))
    p_true = [float(r[f"p_{r['true']}"]) for r in rows]
    assert result["loss"] == pytest.approx(-np.mean(np.log(p_true)), rel=1e-4)
    assert_png(tmp_path / "out" / "confusion_matrix.png")


@pytest.fixture
def bad_setup(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    for cls in FOUR:
        make_images(data / "test" / cls, 1, seed=len(cls))
    other = tmp_path / "other"
    make_images(other / "test" / "none", 1)
    make_images(other / "test" / "zigzag", 1)
    broken = tmp_path / "broken"
    for cls in FOUR:
        make_images(broken / "test" / cls, 1)
    (broken / "test" / "none" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    text = tmp_path / "notes.ckpt"
    text.write_text("hello\n")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}, "epoch": 3}, foreign)
    return {
        "data": data,
        "other": other,
        "broken": broken,
        "ckpt": make_checkpoint(tmp_path / "good.ckpt", FOUR),
        "text": text,
        "foreign": foreign,
        "missing": tmp_path / "missing.ckpt",
    }


@pytest.mark.parametrize(
    ("ckpt", "data", "extra", "expected"),
    [
        ("missing", "data", (), "missing.ckpt does not exist"),
        ("text", "data", (), "notes.ckpt is not a readable checkpoint"),
        ("foreign", "data", (), "foreign.ckpt is not a plotlstm checkpoint"),
        ("ckpt", "other", (), "zigzag unknown"),
        ("ckpt", "broken", (), "bad.png: not a readable image"),
        ("ckpt", "data", ("split=val",), "has no 'val' folder"),
        ("ckpt", "nowhere", (), "nowhere/test does not exist"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    bad_setup: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ckpt: str | None,
    data: str,
    extra: tuple[str, ...],
    expected: str,
) -> None:
    out = tmp_path / "out"
    args = [f"data.root={bad_setup.get(data, tmp_path / data)}", f"out_dir={out}", *extra]
    if ckpt:
        args.append(f"ckpt_path={bad_setup[ckpt]}")
    with pytest.raises(SystemExit) as exit_info:
        run_main(monkeypatch, tmp_path, *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and expected in err[-1], err
    assert "Traceback" not in "\n".join(err)
    assert not out.exists()


def test_library_errors_are_typed(bad_setup: dict[str, Path]) -> None:
    with pytest.raises(CheckpointError):
        evaluate(bad_setup["foreign"], bad_setup["data"])
    with pytest.raises(DataError):
        evaluate(bad_setup["ckpt"], bad_setup["broken"])
    result = evaluate(bad_setup["ckpt"], bad_setup["broken"], skip_unreadable=True, device="cpu")
    assert result["n"] == 4


def test_read_history_from_both_logs(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "csv").mkdir(parents=True)
    (run / "csv" / "metrics.csv").write_text(LIGHTNING_CSV)
    h = read_history(run)
    assert h is not None and h["epoch"] == [0, 1]
    assert h["loss"] == [1.27, 1.20] and h["acc"] == [0.25, 0.40]
    assert h["val_loss"] == [1.17, 1.10] and h["val_acc"] == [0.33, 0.5]
    # epoch-log.csv wins when both exist; an empty value is NaN
    (run / "epoch-log.csv").write_text(
        "epoch;acc;loss;val_acc;val_loss\n0;0.5;1.0;;0.9\n1;0.75;0.8;0.6;0.7\n"
    )
    h = read_history(run)
    assert h["acc"] == [0.5, 0.75] and h["val_loss"] == [0.9, 0.7] and np.isnan(h["val_acc"][0])
    assert_png(training_curves_figure(h, tmp_path / "curves.png", "run"))
    assert read_history(tmp_path / "nothing") is None
    assert run_folder(run / "checkpoints" / "epoch01.ckpt") == run
    assert run_folder(tmp_path / "m.ckpt") == tmp_path


def test_figures_are_valid_pngs(tmp_path: Path) -> None:
    img = assert_png(
        confusion_matrix_figure([[3, 1, 0], [0, 2, 2], [1, 0, 5]], ["a", "b", "c"], tmp_path / "cm.png")
    )
    assert img.mode in ("RGB", "RGBA")
    assert_png(contact_sheet([], tmp_path / "empty.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png", "empty.png"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["out_dir={tmp}/afile/out"], "out_dir: cannot write to"),
        (["data.batch_size=0"], "data.batch_size: must be a whole number >= 1"),
        pytest.param(
            ["device=cuda"],
            "device: 'cuda' asked for, but this machine has no usable CUDA GPU",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU"),
        ),
    ],
)
def test_options_checked_before_any_work(
    bad_setup: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    import plotlstm.evaluate as evaluate_module

    def no_work(*a: object, **k: object) -> None:
        raise AssertionError("evaluation started before the options were checked")

    monkeypatch.setattr(evaluate_module, "evaluate", no_work)
    (tmp_path / "afile").write_text("a file, not a folder")
    args = [a.format(tmp=tmp_path) for a in args]
    if not any(a.startswith("out_dir=") for a in args):
        args.append(f"out_dir={tmp_path / 'out'}")
    with pytest.raises(SystemExit) as exit_info:
        run_main(
            monkeypatch, tmp_path, f"ckpt_path={bad_setup['ckpt']}", f"data.root={bad_setup['data']}", *args
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err
    assert not (tmp_path / "out").exists()


def test_report_shows_paths_with_rich_markup_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    from plotlstm.inference.evaluation import print_report

    per_class = {"a[/i]": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "auc": None, "support": 1}}
    result = {
        "data": "/data/odd[/i]name/test",
        "n": 1,
        "classes": ["a[/i]"],
        "per_class": per_class,
        "macro": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "auc": None},
        "confusion_matrix": [[1]],
        "accuracy": 1.0,
        "loss": 0.1,
        "misclassified": 0,
        "checkpoint": "/runs/x[/bold]/best.ckpt",
        "files": {"metrics": "/out/[red]metrics.json"},
    }
    print_report(result)
    out = " ".join(capsys.readouterr().out.split())
    for text in ("/data/odd[/i]name/test", "a[/i]", "/runs/x[/bold]/best.ckpt", "/out/[red]metrics.json"):
        assert text in out, text
