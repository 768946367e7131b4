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
from plotlstm.synth.simulate import (
    CLASSES,
    STRENGTH,
    SampleSize,
    check_params,
    check_sample_size,
    simulate_plot,
)

CONF = Path(__file__).resolve().parents[2] / "conf"
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
    assert sorted(written) == sorted(f"{p.name}.{os.getpid()}.tmp" for p in gone)
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
        (dict(n_range=[5, 100]), r"n_range: low 5 is below 10 \(the design has up to 9 columns"),
        (dict(n_range=[300, 200]), r"n_range: \[300, 200\] has low > high"),
        (dict(n_range=[20, 5_000_000]), r"n_range: high 5,000,000 is above 1,000,000"),
        (dict(n_range=[20]), r"n_range: expected \[low, high\] \(whole numbers\)"),
        (dict(n_scale="linear"), r"n_scale: unknown scale 'linear'; use one of uniform, log"),
        (dict(classes=()), "classes: empty"),
        (dict(classes=("none", "none")), "names a class twice"),
        (dict(seed=-1), "seed:"),
        (dict(workers=-1), "workers:"),
        (dict(style="excel"), "style: unknown style"),
        (dict(style={"colour": 1}), "unknown style field"),
        (
            dict(style={"jpeg_quality": 500}),
            r"style\.jpeg_quality: must be a JPEG quality .* in 0\.\.95, got 500",
        ),
        (
            dict(style={"border": 4096}),
            r"style\.border: must be a whole number of pixels of border in 0\.\.200",
        ),
        (dict(style={"width": 8}), r"style\.width: must be a whole number of pixels in 16\.\.4096"),
        (dict(style={"rescale": 10.0}), r"style\.rescale: must be a shrink factor in \(0, 1\]"),
        (dict(design_mix=2), r"design_mix: a share of plots in \[0, 1\]"),
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
    with pytest.raises(GeneratorError, match=r"^root: cannot write .*none_000004\.png\.\d+\.tmp: disk full$"):
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
        ("quickstart_six", list(CLASSES), 600, 100),
    ],
)
def test_presets(preset: str, classes: list[str], train: int, test: int) -> None:
    cfg = _compose(f"synth={preset}")
    keys = {
        "root",
        "classes",
        "train_per_class",
        "test_per_class",
        "seed",
        "style",
        "shard",
    }  # shard: generate.yaml's
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


def run_generate(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    """``python -m plotlstm.generate`` into ``tmp_path/x`` with ``overrides``, as a user would run it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "plotlstm.generate",
            f"synth.root={tmp_path / 'x'}",
            *overrides,
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=240,
    )


def test_command_bad_input_is_one_line(tmp_path: Path) -> None:
    proc = run_generate(tmp_path, "synth.train_per_class=0")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: train_per_class: must be at least 1, got 0"
    assert not (tmp_path / "x").exists()


def test_command_strength_out_of_range_is_one_line(tmp_path: Path) -> None:
    proc = run_generate(
        tmp_path, "synth=quickstart_six", "synth.class_params={heteroskedastic: {strength: [0.5, 4]}}"
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


def test_default_n_is_the_reference_draw_and_not_recorded(tmp_path: Path) -> None:
    """The default n (uniform 100..10,000) is drawn exactly as before the option: the manifest's n is the rng's
    first draw, ``integers(100, 10_001)``, and generator.json is the same as before (no n_range, n_scale)."""
    root = generate(tmp_path / "d", workers=1, **SMALL)
    for r in _manifest(root):
        rng = np.random.default_rng(np.random.SeedSequence([5, CLASSES.index(r["class"]), int(r["id"])]))
        assert int(r["n"]) == int(rng.integers(100, 10_001))
    settings = json.loads((root / "generator.json").read_text())
    assert not {"n_range", "n_scale"} & set(settings)
    generate(
        root, workers=1, n_range=(100, 10_000), n_scale="uniform", **SMALL
    )  # the same settings, spelt out


def test_n_range_and_scale_draw_small_plots_and_are_part_of_the_settings(tmp_path: Path) -> None:
    kw = dict(SMALL, n_range=[20, 60], n_scale="log")
    root = generate(tmp_path / "small", workers=1, **kw)
    rows = _manifest(root)
    sample = check_sample_size([20, 60], "log")
    for r in rows:
        sim, _ = simulate_plot(5, r["class"], int(r["id"]), None, sample)
        assert 20 <= int(r["n"]) <= 60 and int(r["n"]) == sim.n
    written = np.asarray(Image.open(root / "train/ceiling/ceiling_000001.png"))
    assert np.array_equal(written, np.asarray(gen.make_plot(5, "ceiling", 1, "r", None, [20, 60], "log")))
    assert not np.array_equal(written, np.asarray(gen.make_plot(5, "ceiling", 1, "r")))
    settings = json.loads((root / "generator.json").read_text())
    assert settings["n_range"] == [20, 60] and settings["n_scale"] == "log"
    generate(root, workers=1, **kw)  # the same settings resume
    with pytest.raises(SettingsMismatchError, match=r"^n_range: .*n_range=\[20, 60\], not \[100, 10000\]"):
        generate(root, workers=1, **SMALL)
    with pytest.raises(SettingsMismatchError, match=r"^n_scale: .*n_scale='log', not 'uniform'") as info:
        generate(root, workers=1, **dict(kw, n_scale="uniform"))
    assert info.value.field == "n_scale"
    default = generate(tmp_path / "default", workers=1, **SMALL)
    with pytest.raises(SettingsMismatchError, match=r"^n_range: .*n_range=\[100, 10000\], not \[20, 60\]"):
        generate(default, workers=1, **kw)


def test_general_style_revision_is_part_of_its_settings_only(tmp_path: Path) -> None:
    """A data set drawn with the `general` style before its alpha floor (no `general_style` key) is not resumed
    with today's drawing; data sets of other styles record nothing and stay valid."""
    kw = dict(SMALL, style="general")
    root = generate(tmp_path / "g", workers=1, **kw)
    path = root / "generator.json"
    settings = json.loads(path.read_text())
    assert settings["general_style"] == gen.GENERAL_STYLE_REVISION >= 2
    generate(root, workers=1, **kw)  # the same settings resume
    del settings["general_style"]  # as an older generator wrote it
    path.write_text(json.dumps(settings))
    with pytest.raises(
        SettingsMismatchError, match=rf"^general_style: .*general_style=1, not {gen.GENERAL_STYLE_REVISION}"
    ):
        generate(root, workers=1, **kw)
    r_root = generate(tmp_path / "r", workers=1, **SMALL)
    assert "general_style" not in json.loads((r_root / "generator.json").read_text())


def test_general_preset_draws_n_log_uniform_from_20() -> None:
    cfg = _compose("synth=general")
    assert list(cfg.synth.n_range) == [20, 10_000] and cfg.synth.n_scale == "log"
    assert check_sample_size(list(cfg.synth.n_range), cfg.synth.n_scale) == SampleSize(20, 10_000, "log")
    other = _compose("synth=quickstart", "+synth.n_range=[20,500]", "+synth.n_scale=log")
    assert list(other.synth.n_range) == [20, 500] and other.synth.n_scale == "log"


def test_make_plot_matches_written_file(tmp_path: Path) -> None:
    root = generate(tmp_path / "m", workers=1, **dict(SMALL, style="varied"))
    written = np.asarray(Image.open(root / "train/ceiling/ceiling_000002.png"))
    assert np.array_equal(written, np.asarray(gen.make_plot(5, "ceiling", 2, "varied")))


# --- hostile settings, concurrent runs and killed parents ---------------------------------------------------


@pytest.mark.parametrize(
    ("style", "match"),
    [
        ({"width": 0}, r"style\.width: must be a whole number of pixels"),
        ({"marker": "star"}, r"style\.marker: use one of circle"),
        ({"smoother_method": "spline"}, r"style\.smoother_method: use one of lowess, loess"),
        ({"point_color": [300, 0, 0]}, r"style\.point_color: must be 3 whole numbers in 0\.\.255"),
        ({"marker_radius": -1.0}, r"style\.marker_radius: must be > 0"),
        ({"font": "no-such-font.ttf"}, r"style: cannot draw a plot with this style"),
    ],
)
def test_style_values_checked_before_anything_is_written(tmp_path: Path, style: dict, match: str) -> None:
    root = tmp_path / "styled"
    with pytest.raises(GeneratorError, match=match) as info:
        generate(root, workers=1, **dict(SMALL, style=style))
    assert "\n" not in str(info.value)
    assert not root.exists()  # no generator.json with the bad style: the corrected rerun is not refused
    generate(root, workers=1, **dict(SMALL, style={"width": 200, "marker": "cross"}))
    assert Image.open(_pngs(root)[0]).size == (200, 480)


def test_counts_are_bounded_and_tasks_streamed(tmp_path: Path) -> None:
    import inspect
    import time

    start = time.monotonic()
    with pytest.raises(
        GeneratorError, match=r"train_per_class: at most 1,000,000 plots per class, got 50,000,000"
    ):
        generate(tmp_path / "huge", workers=1, **dict(SMALL, train_per_class=50_000_000))
    assert time.monotonic() - start < 5 and not (tmp_path / "huge").exists()
    plan = gen._plan(tmp_path, ["none"], {"none": gen.MAX_PER_CLASS}, {"none": gen.MAX_PER_CLASS})
    assert inspect.isgenerator(plan) and next(plan).id == 0


def test_a_second_run_into_the_same_root_is_refused(tmp_path: Path) -> None:
    import fcntl

    root = tmp_path / "busy"
    root.mkdir()
    with open(root / gen.LOCK_NAME, "a+") as held:  # another run holds the root
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        with pytest.raises(GeneratorError, match=r"root: another generate run \(pid 4242\) is writing into"):
            generate(root, workers=1, **SMALL)
    assert not (root / "generator.json").exists()
    (root / gen.LOCK_NAME).write_text("999999\n")  # a lock file left by a killed run does not block
    generate(root, workers=1, **SMALL)
    assert len(_pngs(root)) == 10


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    import signal
    import time

    root = tmp_path / "orphans"
    script = (
        "import plotlstm.synth.generator as gen\n"
        "gen.CHUNK = 400\n"  # long chunks: a worker that outlived its parent would go on drawing
        f"gen.generate({str(root)!r}, classes=('none',), train_per_class=4000, test_per_class=1, workers=2,"
        " progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 60
        while len(list(root.glob("train/none/*.png"))) < 4:
            assert proc.poll() is None and time.monotonic() < deadline, "the generator did not start drawing"
            time.sleep(0.1)
        workers = _children(proc.pid)
        assert workers, "no worker processes found"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers):
            assert time.monotonic() < deadline, "workers outlived their killed parent"
            time.sleep(0.05)
        count = len(list(root.rglob("*.png")))
        time.sleep(0.5)
        assert len(list(root.rglob("*.png"))) == count  # nobody writes any more
    finally:
        if proc.poll() is None:
            proc.kill()


def test_shards_draw_disjoint_parts_that_make_the_whole_set(tmp_path: Path) -> None:
    """Three ``shard=K/3`` runs into one root draw every plot once; the plain run after them draws nothing and
    writes the manifest; the files equal a plain run's, byte for byte."""
    from plotlstm.errors import GeneratorError
    from plotlstm.synth.generator import generate

    args = dict(
        classes=["none", "outlier"], train_per_class=4, test_per_class=2, seed=3, workers=1, progress=False
    )
    sharded, whole = tmp_path / "sharded", tmp_path / "whole"
    seen: set[str] = set()
    for k in (1, 2, 3):
        generate(sharded, shard=f"{k}/3", **args)
        now = {p.relative_to(sharded).as_posix() for p in sharded.rglob("*.png")}
        assert not (now - seen) & seen and len(now - seen) == 4  # 12 plots, 4 new each time
        seen = now
        assert not (sharded / "manifest.csv").exists()
    generate(sharded, **args)
    generate(whole, **args)
    files = sorted(p.relative_to(whole) for p in whole.rglob("*.png"))
    assert len(files) == 12 and all((sharded / f).read_bytes() == (whole / f).read_bytes() for f in files)
    assert (sharded / "manifest.csv").read_text() == (whole / "manifest.csv").read_text()
    with pytest.raises(GeneratorError, match=r"^shard: expected K/N with 1 <= K <= N"):
        generate(tmp_path / "bad", shard="4/3", **args)


def test_style_fields_in_their_own_ranges_draw(tmp_path: Path) -> None:
    """``jpeg_quality: 10`` and ``border: 10`` were refused as "pixels in 16..4096"; they are valid."""
    root = generate(tmp_path / "ok", **{**SMALL, "workers": 1, "style": {"jpeg_quality": 10, "border": 10}})
    assert (root / "manifest.csv").exists()
