"""``plotlstm.predict``: rows for a mixed folder, agreement of the command, the library and batches, bad input."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from plotlstm.inference.classifier import PlotClassifier
from plotlstm.inference.results import write_results
from plotlstm.models.checkpoint import Checkpoint
from plotlstm.models.module import PlotLitModule
from plotlstm.predict import expand_inputs, main

FOUR = ["biased", "ceiling", "none", "outlier"]


def make_checkpoint(path: Path, classes: list[str], image_size: int = 32, seed: int = 0) -> Path:
    """A small untrained PlotLitModule saved as Lightning does (weights and hyper-parameters)."""
    torch.manual_seed(seed)
    m = PlotLitModule(len(classes), classes, image_size=image_size, net=dict(lstm_size=8, hidden_size=4))
    return Checkpoint.save(m, path)


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    return make_checkpoint(tmp_path / "model.ckpt", FOUR)


@pytest.fixture
def mixed(tiny_root: Path, tmp_path: Path) -> Path:
    """Generated plots, foreign images of every kind, and files that are not images."""
    folder = tmp_path / "mixed"
    (folder / "sub" / "deeper").mkdir(parents=True)
    plots = sorted((tiny_root / "test").rglob("*.png"))
    shutil.copy(plots[0], folder / "plot_a.png")
    shutil.copy(plots[-1], folder / "sub" / "plot_b.PNG")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (300, 1000, 3), dtype=np.uint8)).save(folder / "wide.png")
    Image.fromarray(rng.integers(0, 256, (64, 64, 4), dtype=np.uint8), "RGBA").save(folder / "rgba.png")
    Image.fromarray(rng.integers(0, 256, (70, 50), dtype=np.uint8), "L").save(folder / "sub" / "grey.png")
    Image.open(plots[1]).convert("RGB").save(folder / "sub" / "deeper" / "photo.jpg")
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "notes.txt").write_text("not an image either\n")
    data = plots[2].read_bytes()
    (folder / "truncated.png").write_bytes(data[: len(data) // 2])
    return folder


GOOD = ["plot_a.png", "rgba.png", "sub/deeper/photo.jpg", "sub/grey.png", "sub/plot_b.PNG", "wide.png"]
BAD = ["text.png", "truncated.png"]


def run_main(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["plotlstm-predict", f"hydra.run.dir={tmp_path / 'hydra'}", *args])
    main()


def test_expand_inputs_recurses_by_extension_sorted(mixed: Path) -> None:
    paths = expand_inputs([mixed, mixed / "notes.txt"])
    assert [p.relative_to(mixed).as_posix() for p in paths] == sorted(GOOD + BAD) + ["notes.txt"]
    assert expand_inputs(str(mixed / "wide.png")) == [mixed / "wide.png"]


def test_mixed_folder_gives_class_rows_and_error_rows(
    ckpt: Path,
    mixed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "preds.csv"
    run_main(
        monkeypatch,
        tmp_path,
        f"ckpt_path={ckpt}",
        f"inputs=[{mixed},{mixed / 'notes.txt'},{tmp_path / 'gone.png'}]",
        f"output={out}",
        "batch_size=4",
    )
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["path", "class", *(f"p_{c}" for c in FOUR), "error"]
    by_name = {Path(r["path"]).relative_to(tmp_path).as_posix().removeprefix("mixed/"): r for r in rows}
    assert list(by_name) == sorted(GOOD + BAD) + ["notes.txt", "gone.png"]
    for name in GOOD:
        r = by_name[name]
        assert r["class"] in FOUR and r["error"] == "", r
        probs = [float(r[f"p_{c}"]) for c in FOUR]
        assert sum(probs) == pytest.approx(1, abs=1e-5) and r["class"] == FOUR[int(np.argmax(probs))]
    for name in [*BAD, "notes.txt", "gone.png"]:
        r = by_name[name]
        assert r["class"] == "" and all(r[f"p_{c}"] == "" for c in FOUR)
        assert name.split("/")[-1] in r["error"] and "\n" not in r["error"], r
    assert "not a readable image" in by_name["text.png"]["error"]
    assert "truncated" in by_name["truncated.png"]["error"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    printed = capsys.readouterr().out
    assert "6 classified, 4 not readable" in printed and "wide.png" in printed


def test_command_library_and_batches_agree(
    ckpt: Path, mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "preds.json"
    run_main(monkeypatch, tmp_path, f"ckpt_path={ckpt}", f"inputs=[{mixed}]", f"output={out}", "batch_size=4")
    data = json.loads(out.read_text())
    assert data["classes"] == FOUR
    command = {Path(p["path"]): p for p in data["predictions"] if not p["error"]}
    good = [mixed / g for g in GOOD]
    assert sorted(command) == sorted(good)

    classifier = PlotClassifier.from_checkpoint(ckpt, device="cpu", batch_size=4)
    library = classifier.predict(good)
    batch = classifier.predict_batch([classifier.prepare(p) for p in good])
    one_by_one = [classifier.predict(p) for p in good]
    pil = classifier.predict([Image.open(p) for p in good])
    for i, (path, pred) in enumerate(zip(good, library, strict=True)):
        cmd = command[path]
        assert cmd["class"] == pred.label == one_by_one[i].label == pil[i].label
        assert cmd["probabilities"] == pred.probabilities  # exactly: same files, same batches
        assert list(pred.probabilities.values()) == batch[i].tolist()
        assert list(one_by_one[i].probabilities.values()) == pytest.approx(batch[i].tolist(), abs=1e-6)
        assert pil[i].probabilities == pred.probabilities
    # unreadable files in between do not change the batches of the readable ones
    rows = classifier.predict_files(expand_inputs([mixed]))
    assert {Path(r.name): r.probabilities for r in rows if not r.error} == {
        p: pred.probabilities for p, pred in zip(good, library, strict=True)
    }


def test_console_script_writes_json(ckpt: Path, mixed: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("plotlstm-predict")
    out = tmp_path / "out" / "preds.json"
    proc = subprocess.run(
        [
            str(script),
            f"ckpt_path={ckpt}",
            f"inputs=[{mixed / 'wide.png'},{mixed / 'text.png'}]",
            f"output={out}",
        ],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    preds = json.loads(out.read_text())["predictions"]
    assert [bool(p["error"]) for p in preds] == [False, True]
    assert preds[0]["class"] in FOUR and "wide.png" in proc.stdout


def test_table_rows_and_progress(
    ckpt: Path,
    mixed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_main(monkeypatch, tmp_path, f"ckpt_path={ckpt}", f"inputs=[{mixed}]", "table_rows=3", "progress=true")
    captured = capsys.readouterr()
    assert "... 5 more rows" in captured.out
    assert "predict" in captured.err and "8/8" in captured.err  # the progress bar, on stderr
    assert not list(tmp_path.glob("*.csv")) and not list(tmp_path.glob("*.json"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["inputs=[]"], "inputs: give image files or folders"),
        ([], "inputs: give image files or folders"),
        (["inputs=[{mixed}]", "output={tmp}/preds.txt"], "preds.txt must end in .csv or .json"),
        (["inputs=[{mixed}]", "ckpt_path={tmp}/missing.ckpt"], "missing.ckpt does not exist"),
        (["inputs=[{mixed}]", "ckpt_path={mixed}/text.png"], "text.png is not a readable checkpoint"),
        (["inputs=[{mixed}]", "ckpt_path={tmp}/foreign.ckpt"], "foreign.ckpt is not a plotlstm checkpoint"),
        (["inputs=[{mixed}]", "ckpt_path={tmp}/empty"], "no checkpoint (*.ckpt) in"),
    ],
)
def test_bad_input_is_one_line(
    ckpt: Path,
    mixed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    torch.save({"state_dict": {}, "epoch": 1}, tmp_path / "foreign.ckpt")
    (tmp_path / "empty").mkdir()
    args = [a.format(mixed=mixed, tmp=tmp_path) for a in args]
    if not any(a.startswith("ckpt_path=") for a in args):
        args.append(f"ckpt_path={ckpt}")
    if not any(a.startswith("output=") for a in args):
        args.append(f"output={tmp_path / 'preds.csv'}")
    with pytest.raises(SystemExit) as exit_info:
        run_main(monkeypatch, tmp_path, *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and expected in err[-1], err
    assert "Traceback" not in "\n".join(err)
    assert not list(tmp_path.glob("preds.*")) and not list(tmp_path.glob(".preds*"))


def test_write_predictions_refuses_other_formats(tmp_path: Path) -> None:
    from plotlstm.errors import PlotLSTMError

    with pytest.raises(PlotLSTMError, match="csv or .json"):
        write_results([], FOUR, tmp_path / "x.xlsx")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["batch_size=0"], "batch_size: must be a whole number >= 1, got 0"),
        (["batch_size=abc"], "batch_size: must be a whole number >= 1, got 'abc'"),
        (["output={tmp}/afile/preds.csv"], "output: cannot write to"),
        (["output={tmp}/adir.csv"], "is a folder"),
        (["table_rows=0"], "table_rows"),
        pytest.param(
            ["device=cuda"],
            "device: 'cuda' asked for, but this machine has no usable CUDA GPU",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU"),
        ),
        (["device=gpu7"], "device: unknown device 'gpu7'"),
    ],
)
def test_options_checked_before_any_work(
    ckpt: Path,
    mixed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    from plotlstm.inference.classifier import PlotClassifier

    def no_work(*a: object, **k: object) -> None:
        raise AssertionError("the checkpoint was loaded before the options were checked")

    monkeypatch.setattr(PlotClassifier, "from_checkpoint", no_work)
    (tmp_path / "afile").write_text("a file, not a folder")
    (tmp_path / "adir.csv").mkdir()
    args = [a.format(tmp=tmp_path) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        run_main(monkeypatch, tmp_path, f"ckpt_path={ckpt}", f"inputs=[{mixed}]", *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0], err


def test_file_names_with_rich_markup_are_shown_as_they_are(
    ckpt: Path, tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    folder = tmp_path / "odd[" / "i]name [bold]"  # the path reads .../odd[/i]name [bold]
    (folder / "x[").mkdir(parents=True)
    shutil.copy(next((tiny_root / "test").rglob("*.png")), folder / "x[" / "i].png")
    (folder / "broken[").mkdir()
    (folder / "broken[" / "red].png").write_text("not an image")
    run_main(monkeypatch, tmp_path, f"ckpt_path={ckpt}", f"inputs=['{folder}']", "table_rows=null")
    printed = capsys.readouterr()
    out, err = "".join(printed.out.split()), " ".join(printed.err.split())  # the table may fold a name
    assert "x[/i].png" in out and "odd[/i]name[bold]" in out
    assert (
        "error" in err and "broken[/red].png" in err and "not a readable image" not in out
    )  # reasons: stderr


def test_nothing_classified_exits_1_after_writing(
    ckpt: Path, mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "preds.json"
    with pytest.raises(SystemExit) as exit_info:
        run_main(
            monkeypatch,
            tmp_path,
            f"ckpt_path={ckpt}",
            f"inputs=[{mixed / 'text.png'},{mixed / 'notes.txt'}]",
            f"output={out}",
        )
    assert exit_info.value.code == 1
    assert [p["error"] != "" for p in json.loads(out.read_text())["predictions"]] == [True, True]
    assert "0 classified, 2 not readable" in capsys.readouterr().out


def test_outputs_are_written_before_printing(
    ckpt: Path, mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import plotlstm.predict as predict_module

    def broken_terminal(*args: object, **kwargs: object) -> None:
        raise OSError(5, "Input/output error", "<stdout>")

    monkeypatch.setattr(predict_module, "print_results", broken_terminal)
    out = tmp_path / "preds.csv"
    with pytest.raises(SystemExit) as exit_info:
        run_main(monkeypatch, tmp_path, f"ckpt_path={ckpt}", f"inputs=[{mixed}]", f"output={out}")
    assert exit_info.value.code == 2
    assert len(list(csv.DictReader(out.open()))) == len(GOOD + BAD)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "error: <stdout>: Input/output error"
