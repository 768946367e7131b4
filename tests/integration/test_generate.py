"""generate(): layout, manifest, determinism, resume, bad input, the Hydra command."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

import plotlstm.generate as generate_command
import plotlstm.synth.generator as gen
from plotlstm.errors import GeneratorError, SettingsMismatchError
from plotlstm.synth.generator import generate
from plotlstm.synth.simulate import CLASSES, STRENGTH, check_params, simulate_plot

CONF = Path(__file__).resolve().parents[2] / "plotlstm" / "conf"
REPO = CONF.parents[1]
SMALL = dict(classes=("none", "ceiling"), train_per_class=3, test_per_class=2, seed=5, progress=False)


def _pngs(root: Path) -> list[Path]:
    return sorted(root.rglob("*.png"))


def _manifest(root: Path) -> list[dict[str, str]]:
    with open(root / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_layout_manifest_and_settings(tmp_path: Path) -> None:
    root = generate(tmp_path / "d", workers=1, **SMALL)
    assert root == tmp_path / "d"
    files = [p.relative_to(root).as_posix() for p in _pngs(root)]
    assert len(files) == 10
    assert "train/none/none_000000.png" in files and "test/ceiling/ceiling_000004.png" in files
    rows = _manifest(root)
    assert list(rows[0]) == [
        "class", "split", "id", "n", "predictors", "controls", "kind", "strength", "seed", "file"
    ]  # fmt: skip
    assert sorted(r["file"] for r in rows) == sorted(files)
    for r in rows:
        sim, _ = simulate_plot(5, r["class"], int(r["id"]))
        assert (int(r["n"]), int(r["predictors"]), int(r["controls"])) == (
            sim.n,
            sim.predictors,
            sim.controls,
        )
        assert r["seed"] == "5" and r["kind"] == r["strength"] == ""  # only the new classes have them
    for cls in ("none", "ceiling"):
        train = {int(r["id"]) for r in rows if r["class"] == cls and r["split"] == "train"}
        test = {int(r["id"]) for r in rows if r["class"] == cls and r["split"] == "test"}
        assert train == {0, 1, 2} and test == {3, 4}
    img = Image.open(root / "train/none/none_000001.png")
    assert img.mode == "RGB" and img.size == (480, 480)
    settings = json.loads((root / "generator.json").read_text())
    assert settings["classes"] == ["none", "ceiling"] and settings["seed"] == 5
    assert settings["train_per_class"] == {"none": 3, "ceiling": 3}


def test_parallel_equals_serial_and_dict_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen, "CHUNK", 2)  # several chunks through the process pool
    kw = dict(SMALL, train_per_class={"none": 3, "ceiling": 2})
    a = generate(tmp_path / "a", workers=1, **kw)
    b = generate(tmp_path / "b", workers=2, **kw)
    fa, fb = _pngs(a), _pngs(b)
    assert [p.relative_to(a) for p in fa] == [p.relative_to(b) for p in fb] and len(fa) == 9
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(fa, fb, strict=True))
    assert (a / "manifest.csv").read_text() == (b / "manifest.csv").read_text()


def test_resume_makes_only_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = generate(tmp_path / "r", workers=1, **SMALL)
    before = {p: p.read_bytes() for p in _pngs(root)}
    gone = [root / "train/none/none_000001.png", root / "test/ceiling/ceiling_000003.png"]
    for p in gone:
        p.unlink()
    stale = root / "train/ceiling/ceiling_000002.png.tmp"
    stale.write_bytes(b"\x89PNG broken")
    (root / "manifest.csv").unlink()
    mtimes = {p: p.stat().st_mtime_ns for p in _pngs(root)}

    written: list[str] = []
    real = gen.save_png

    def counting(image: object, path: object, **kw: object) -> None:
        written.append(Path(str(path)).name)
        real(image, path, **kw)

    monkeypatch.setattr(gen, "save_png", counting)
    generate(tmp_path / "r", workers=1, **SMALL)
    assert sorted(written) == sorted(p.name + ".tmp" for p in gone)
    assert not list(root.rglob("*.tmp"))
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())
    assert {p: p.read_bytes() for p in _pngs(root)} == before  # remade plots are identical
    assert len(_manifest(root)) == 10


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(train_per_class=0), "train_per_class: must be at least 1"),
        (dict(test_per_class=-2), "test_per_class: must be at least 1"),
        (dict(train_per_class={"none": 2}), "train_per_class: no count for class"),
        (dict(train_per_class=2.5), "train_per_class: expected a positive integer"),
        (
            dict(classes=("none", "wobbly")),
            "classes: unknown class 'wobbly'; valid classes: none, biased, outlier, ceiling, heteroskedastic, nonlinear",
        ),
        (
            dict(class_params={"nonlinear": {"strength": [0.0, 3.0]}}),
            r"class_params\.nonlinear\.strength: \[0, 3\] is out of range",
        ),
        (
            dict(class_params={"heteroskedastic": {"strength": [5, 2]}}),
            r"class_params\.heteroskedastic\.strength: \[5, 2\] is out of range",
        ),
        (
            dict(class_params={"heteroskedastic": {"strength": 4}}),
            r"class_params\.heteroskedastic\.strength: expected",
        ),
        (
            dict(class_params={"nonlinear": {"kinds": ["zigzag"]}}),
            r"class_params\.nonlinear\.kinds: unknown kind 'zigzag'",
        ),
        (
            dict(class_params={"nonlinear": {"height": 3}}),
            r"class_params\.nonlinear: unknown key\(s\) height",
        ),
        (dict(class_params={"outlier": {"strength": [1, 2]}}), "class_params: 'outlier' has no parameters"),
        (dict(classes=()), "classes: empty"),
        (dict(classes=("none", "none")), "names a class twice"),
        (dict(seed=-1), "seed:"),
        (dict(workers=-1), "workers:"),
        (dict(style="excel"), "style: unknown style"),
        (dict(style={"colour": 1}), "unknown style field"),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path: Path, kwargs: dict, match: str) -> None:
    args = {**SMALL, "workers": 1, **kwargs}
    with pytest.raises(GeneratorError, match=match) as info:
        generate(tmp_path / "bad", **args)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "bad").exists()


def test_unwritable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(GeneratorError, match=r"root: cannot write to .*a_file"):
        generate(blocker / "x", workers=1, **SMALL)


def test_other_settings_refused_unless_overwrite(tmp_path: Path) -> None:
    root = generate(tmp_path / "s", workers=1, **SMALL)
    before = {p: p.read_bytes() for p in _pngs(root)}
    with pytest.raises(SettingsMismatchError, match=r"^seed: .*seed=5.*overwrite=True") as info:
        generate(root, workers=1, **dict(SMALL, seed=6))
    assert info.value.field == "seed" and isinstance(info.value, ValueError)
    with pytest.raises(SettingsMismatchError, match="^classes:"):
        generate(root, workers=1, **dict(SMALL, classes=("none",)))
    assert {p: p.read_bytes() for p in _pngs(root)} == before
    generate(root, workers=1, overwrite=True, **dict(SMALL, classes=("none",), seed=6))
    assert {p.parent.name for p in _pngs(root)} == {"none"}
    assert json.loads((root / "generator.json").read_text())["seed"] == 6


def test_full_disk_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = generate(tmp_path / "f", workers=1, **SMALL)
    before = {p: p.read_bytes() for p in _pngs(root)}
    missing = root / "test/none/none_000004.png"
    missing.unlink()
    del before[missing]

    def full_disk(image: object, path: object, **kw: object) -> None:
        with open(str(path), "wb") as fh:
            fh.write(b"\x89PNG\r\n partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(gen, "save_png", full_disk)
    with pytest.raises(GeneratorError, match=r"^root: cannot write .*none_000004\.png\.tmp: disk full$"):
        generate(root, workers=1, **SMALL)
    assert not list(root.rglob("*.tmp")) and not missing.exists()
    assert {p: p.read_bytes() for p in _pngs(root)} == before
    monkeypatch.undo()
    generate(root, workers=1, **SMALL)  # the rerun completes it
    assert missing.exists() and len(_manifest(root)) == 10


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="generate", overrides=list(overrides))


@pytest.mark.parametrize(
    ("preset", "classes", "train", "test"),
    [
        ("quickstart", ["none", "biased", "outlier", "ceiling"], 300, 100),
        ("seed_binary", ["none", "ceiling"], 8000, 2000),
        ("seed_four_class", ["none", "biased", "outlier", "ceiling"], 10000, 2500),
        ("six_class", list(CLASSES), 10000, 2500),
        ("quickstart_six", list(CLASSES), 300, 100),
    ],
)
def test_presets(preset: str, classes: list[str], train: int, test: int) -> None:
    cfg = _compose(f"synth={preset}")
    keys = {"root", "classes", "train_per_class", "test_per_class", "seed", "style"}
    assert set(cfg.synth) == (keys | {"class_params"} if len(classes) == 6 else keys)
    assert list(cfg.synth.classes) == classes
    assert (cfg.synth.train_per_class, cfg.synth.test_per_class) == (train, test)
    assert Path(cfg.synth.root).name == preset and not Path(cfg.synth.root).is_absolute()
    assert cfg.synth.style == "r" and {"workers", "overwrite", "progress"} <= set(cfg)
    assert _compose(f"synth={preset}", "synth.seed=9").synth.seed == 9  # _self_ first: overridable


def test_command_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = tmp_path / "cli"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "plotlstm-generate",
            f"synth.root={root}",
            "synth.classes=[outlier]",
            "synth.train_per_class=2",
            "synth.test_per_class=1",
            "workers=1",
            "progress=false",
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
    )
    generate_command.main()
    assert capsys.readouterr().out.strip() == str(root)
    assert len(_pngs(root)) == 3 and len(_manifest(root)) == 3


def test_command_bad_input_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "plotlstm.generate",
            f"synth.root={tmp_path / 'x'}",
            "synth.train_per_class=0",
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=240,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: train_per_class: must be at least 1, got 0"
    assert not (tmp_path / "x").exists()


def test_command_strength_out_of_range_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "plotlstm.generate",
            "synth=quickstart_six",
            f"synth.root={tmp_path / 'x'}",
            "synth.class_params={heteroskedastic: {strength: [0.5, 4]}}",
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=240,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "error: class_params.heteroskedastic.strength: [0.5, 4] is out of range; need 1 < low <= high <= 100"
    )
    assert not (tmp_path / "x").exists()


def test_rerun_with_same_dict_style_is_accepted(tmp_path: Path) -> None:
    kw = dict(SMALL, classes=("none",), train_per_class=1, test_per_class=1)
    style = {"point_color": (0, 0, 200), "width": 320}
    root = generate(tmp_path / "d", workers=1, style=style, **kw)
    generate(root, workers=1, style=dict(style), **kw)
    assert Image.open(root / "train/none/none_000000.png").size == (320, 480)


def test_six_classes_manifest_records_kind_and_strength(tmp_path: Path) -> None:
    params = {"heteroskedastic": {"kinds": ["fan_left", "bow_tie"], "strength": [4, 5]}}
    kw = dict(SMALL, classes=("heteroskedastic", "nonlinear", "none"), class_params=params)
    root = generate(tmp_path / "six", workers=1, **kw)
    rows = _manifest(root)
    assert len(rows) == 15
    checked = check_params(params)
    for r in rows:
        sim, _ = simulate_plot(5, r["class"], int(r["id"]), checked)
        assert r["kind"] == (sim.kind or "") and int(r["n"]) == sim.n
        if r["class"] == "none":
            assert r["strength"] == ""
        else:
            assert float(r["strength"]) == pytest.approx(sim.strength, rel=1e-5)
    hetero = [r for r in rows if r["class"] == "heteroskedastic"]
    assert {r["kind"] for r in hetero} <= {"fan_left", "bow_tie"}
    assert all(4 <= float(r["strength"]) <= 5 for r in hetero)
    lo, hi = STRENGTH["nonlinear"]
    assert all(lo <= float(r["strength"]) <= hi for r in rows if r["class"] == "nonlinear")
    settings = json.loads((root / "generator.json").read_text())
    assert settings["class_params"]["heteroskedastic"] == {
        "kinds": ["fan_left", "bow_tie"],
        "strength": [4, 5],
    }
    assert settings["class_params"]["nonlinear"]["strength"] == [lo, hi]
    written = np.asarray(Image.open(root / "train/heteroskedastic/heteroskedastic_000001.png"))
    assert np.array_equal(written, np.asarray(gen.make_plot(5, "heteroskedastic", 1, "r", params)))
    with pytest.raises(SettingsMismatchError, match="^class_params:"):
        generate(root, workers=1, **dict(kw, class_params=None))


def test_original_classes_record_no_class_params(tmp_path: Path) -> None:
    root = generate(tmp_path / "o", workers=1, **dict(SMALL, train_per_class=1, test_per_class=1))
    assert "class_params" not in json.loads((root / "generator.json").read_text())


def test_make_plot_matches_written_file(tmp_path: Path) -> None:
    root = generate(tmp_path / "m", workers=1, **dict(SMALL, style="varied"))
    written = np.asarray(Image.open(root / "train/ceiling/ceiling_000002.png"))
    assert np.array_equal(written, np.asarray(gen.make_plot(5, "ceiling", 2, "varied")))
