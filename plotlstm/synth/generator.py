"""Draw a synthetic plot data set: ``generate()`` (the command is ``python -m plotlstm.generate``).

Layout written under ``root`` (torchvision ImageFolder)::

    root/train/<class>/<class>_<id>.png     ids 0 .. train-1
    root/test/<class>/<class>_<id>.png      ids train .. train+test-1 (other plots than train)
    root/manifest.csv                       class, split, id, n, predictors, controls, kind, strength, seed, file
    root/generator.json                     the settings; a rerun with other settings refuses

Each plot's sample size ``n`` is drawn as the reference does (uniform in 100..10,000) unless ``n_range``/``n_scale``
say otherwise (:class:`plotlstm.synth.simulate.SampleSize`).

Plot ``id`` of class ``c`` depends only on ``(seed, c, id)``, so generation runs in parallel,
in any order, and resumes: existing PNGs are kept, stale ``*.tmp`` files removed, and only the
missing plots drawn. Every PNG is written to ``*.tmp`` in its folder first, then renamed.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import itertools
import json
import math
import multiprocessing
import os
import shutil
import signal
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from plotlstm.atomic import atomic_path, write_json
from plotlstm.errors import GeneratorError, SettingsMismatchError, first_line
from plotlstm.progress import ProgressBar
from plotlstm.synth.designs import REVISION as DESIGNS_REVISION
from plotlstm.synth.designs import draw_design_plot, simulate_design_plot
from plotlstm.synth.negatives import NEGATIVE_CLASS, make_negative
from plotlstm.synth.negatives import REVISION as NEGATIVES_REVISION
from plotlstm.synth.render import SMOOTHERS, render, save_png, tune_process
from plotlstm.synth.simulate import (
    CLASSES,
    DEFAULT_SAMPLE_SIZE,
    KINDS,
    N_RANGE,
    ORIGINAL_CLASSES,
    Header,
    SampleSize,
    SpoilParams,
    check_params,
    check_sample_size,
    draw_header,
    plot_rng,
    simulate,
)
from plotlstm.synth.style import DASHES, MARKERS, Style, resolve_style, validate_style_option

GENERATOR_VERSION = 2
"""Bumped whenever the same settings would draw different images (2: statsmodels lowess, Pillow PNG)."""
SPLITS = ("train", "test")
MANIFEST_COLUMNS = ("class", "split", "id", "n", "predictors", "controls", "kind", "strength", "seed", "file")
CHUNK = 32
MAX_PER_CLASS = 1_000_000
"""The most plots of one class in one split (a data set's plots are listed in memory by readers, and the
manifest holds a row for each)."""
LOCK_NAME = ".generate.lock"
GENERAL_STYLE_REVISION = 2
"""Bumped when the ``general`` style draws differently (2: the alpha floor for small plots, ``FADE_POINTS``);
recorded only for data sets drawn with it, so the other styles' data sets stay valid."""
SETTING_DEFAULTS: dict[str, Any] = {
    "n_range": list(N_RANGE),
    "n_scale": DEFAULT_SAMPLE_SIZE.scale,
    "general_style": 1,
    "negatives": 1,
    "design_mix": 0.0,
}
"""Settings that ``generator.json`` records only when they are not these defaults (so files written before they
existed stay valid): a file without one was made with its default."""


@dataclass(frozen=True)
class _Task:
    cls: str
    split: str
    id: int
    path: str


# --------------------------------------------------------------------------- validation


def _plain(value: Any) -> Any:
    """OmegaConf containers (from Hydra) to plain Python."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(value, DictConfig | ListConfig):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:  # pragma: no cover - hydra is a dependency
        pass
    return value


def _check_classes(classes: Any) -> tuple[str, ...]:
    classes = _plain(classes)
    if isinstance(classes, str) or not isinstance(classes, Iterable):
        raise GeneratorError(f"classes: expected a list of class names, got {classes!r}")
    out = tuple(classes)
    if not out:
        raise GeneratorError("classes: empty; name at least one of " + ", ".join(CLASSES))
    for c in out:
        if c not in CLASSES and c != NEGATIVE_CLASS:
            raise GeneratorError(
                f"classes: unknown class {c!r}; valid classes: {', '.join((*CLASSES, NEGATIVE_CLASS))}"
            )
    if len(set(out)) != len(out):
        raise GeneratorError(f"classes: {list(out)} names a class twice")
    return out


def _check_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise GeneratorError(f"{name}: expected a positive integer, got {value!r}")
    if value < 1:
        raise GeneratorError(f"{name}: must be at least 1, got {value}")
    if value > MAX_PER_CLASS:
        raise GeneratorError(f"{name}: at most {MAX_PER_CLASS:,} plots per class, got {value:,}")
    return int(value)


def _check_counts(name: str, value: Any, classes: Sequence[str]) -> dict[str, int]:
    value = _plain(value)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(classes))
        if unknown:
            raise GeneratorError(
                f"{name}: class(es) {', '.join(map(str, unknown))} not in classes {list(classes)}"
            )
        missing = [c for c in classes if c not in value]
        if missing:
            raise GeneratorError(f"{name}: no count for class(es) {', '.join(missing)}")
        return {c: _check_count(f"{name}.{c}", value[c]) for c in classes}
    count = _check_count(name, value)
    return {c: count for c in classes}


_POSITIVE_STYLE_FLOATS = {"font_size", "label_font_size", "marker_radius"}
_MAX_SIDE = 4096
_INT_FIELDS = {
    "width": (16, _MAX_SIDE, "a whole number of pixels"),
    "height": (16, _MAX_SIDE, "a whole number of pixels"),
    "jpeg_quality": (0, 95, "a JPEG quality (0: no JPEG re-encoding)"),
    "border": (0, 200, "a whole number of pixels of border"),
}
"""Each whole-number style field's range, by its meaning."""


def _style_value_error(key: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``style.<key>`` (None when it is), judged by the field's default's type."""
    default = getattr(Style(), key)
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "must be true or false"
    if isinstance(default, int):
        low, high, unit = _INT_FIELDS.get(key, (16, _MAX_SIDE, "a whole number of pixels"))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be {unit} in {low}..{high}"
        return None
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a number"
        if key == "point_alpha" and not 0 <= value <= 1:
            return "must be in [0, 1]"
        if key == "rescale" and not 0 < value <= 1:
            return "must be a shrink factor in (0, 1] (1: none)"
        if (key in _POSITIVE_STYLE_FLOATS and value <= 0) or (key.endswith("linewidth") and value < 0):
            return "must be > 0" if key in _POSITIVE_STYLE_FLOATS else "must be >= 0"
        return None
    if isinstance(default, str):
        if not isinstance(value, str):
            return "must be a string"
        if key == "marker" and value not in MARKERS:
            return f"use one of {', '.join(MARKERS)}"
        if key.endswith("dash") and value not in DASHES:
            return f"use one of {', '.join(DASHES)}"
        if key == "smoother_method" and value not in SMOOTHERS:
            return f"use one of {', '.join(SMOOTHERS)}"
        return None
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or len(value) != len(default):
            return f"must be a list of {len(default)} numbers"
        if len(default) == 3 and all(isinstance(v, int) for v in default):  # a colour
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
                return "must be 3 whole numbers in 0..255 (red, green, blue)"
        elif not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in value):
            return "must be numbers >= 0"
    return None


def _check_style(style: Any, seed: int, cls: str) -> None:
    """The style option and every value in it, then one trial plot drawn in memory: before anything is written."""
    try:
        validate_style_option(style)
    except ValueError as err:
        raise GeneratorError(str(err)) from None
    if isinstance(style, dict):
        for key, value in style.items():
            if key == "base":
                continue
            problem = _style_value_error(key, value)
            if problem:
                raise GeneratorError(f"style.{key}: {problem}, got {value!r}")
    try:
        make_plot(seed, cls, 0, style)
    except Exception as err:  # noqa: BLE001 - any failure to draw is the style's
        first = first_line(err)
        raise GeneratorError(f"style: cannot draw a plot with this style ({first})") from None


def _check_root(root: Path) -> None:
    """Create ``root`` and write/delete a probe file there; GeneratorError if that fails."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}.tmp"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise GeneratorError(f"root: cannot write to {root}: {err.strerror or err}") from None


@contextlib.contextmanager
def _root_lock(root: Path, shard: tuple[int, int] = (1, 1)) -> Iterator[None]:
    """Hold an exclusive lock on ``root`` for the run: a second run into it stops with one line.

    ``flock`` locks die with their process, so a lock file left by a killed run never blocks the next one."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    path = root / (LOCK_NAME if shard == (1, 1) else f"{LOCK_NAME}-{shard[0]}-of-{shard[1]}")
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise GeneratorError(
                f"root: another generate run (pid {holder}) is writing into {root}; wait for it to end or use "
                "another root"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- planning


def id_width(total: int) -> int:
    """Digits of the zero-padded ids (at least 6)."""
    return max(6, len(str(max(total - 1, 0))))


def plot_path(root: Path, split: str, cls: str, pid: int, width: int = 6) -> Path:
    """Where plot ``pid`` of class ``cls`` lives."""
    return root / split / cls / f"{cls}_{pid:0{width}d}.png"


def _plan(
    root: Path,
    classes: Sequence[str],
    train: Mapping[str, int],
    test: Mapping[str, int],
    shard: tuple[int, int] = (1, 1),
) -> Iterator[_Task]:
    """Every plot of the data set (of shard ``(k, n)``: the plots whose id is ``k - 1`` modulo ``n``), in order,
    one at a time (never listed as a whole)."""
    k, n = shard
    for cls in classes:
        width = id_width(train[cls] + test[cls])
        for split, start, count in (("train", 0, train[cls]), ("test", train[cls], test[cls])):
            for pid in range(start, start + count):
                if pid % n == k - 1:
                    yield _Task(cls, split, pid, str(plot_path(root, split, cls, pid, width)))


def check_shard(shard: Any) -> tuple[int, int]:
    """``"K/N"`` (the K-th of N disjoint parts, 1 <= K <= N) as ``(K, N)``; None: the whole set, ``(1, 1)``."""
    if shard is None or shard == "":
        return 1, 1
    parts = str(shard).split("/")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        k, n = int(parts[0]), int(parts[1])
        if 1 <= k <= n:
            return k, n
    raise GeneratorError(f"shard: expected K/N with 1 <= K <= N (e.g. 3/8), got {shard!r}")


def _check_class_params(class_params: Any) -> dict[str, SpoilParams]:
    try:
        return check_params(_plain(class_params))
    except ValueError as err:
        raise GeneratorError(str(err)) from None


def _check_sample_size(n_range: Any, n_scale: Any, design_mix: Any = 0.0) -> SampleSize:
    try:
        return check_sample_size(_plain(n_range), n_scale, design_mix)
    except ValueError as err:
        raise GeneratorError(str(err)) from None


def plot_header(
    seed: int,
    cls: str,
    pid: int,
    params: Mapping[str, SpoilParams] | None = None,
    sample: SampleSize = DEFAULT_SAMPLE_SIZE,
) -> Header:
    """n, predictors, controls (and kind, strength) of a plot without simulating it (its rng's first draws).

    A non-plot (class ``unrecognized``) has no data set: zeros."""
    if cls == NEGATIVE_CLASS:
        return Header(0, 0, 0)
    rng = plot_rng(seed, cls, pid)
    if sample.design_mix and rng.random() < sample.design_mix:
        plot = draw_design_plot(cls, rng, sample.draw(rng))
        return Header(plot.n, 0, 0, f"{plot.design}/{plot.kind}" if plot.kind else plot.design, plot.strength)
    return draw_header(cls, rng, params, sample)


# --------------------------------------------------------------------------- drawing


def make_plot(
    seed: int,
    cls: str,
    pid: int,
    style: Any = "r",
    class_params: Mapping[str, Any] | None = None,
    n_range: Sequence[int] = N_RANGE,
    n_scale: str = "uniform",
    design_mix: float = 0.0,
) -> Any:
    """The PIL image of plot ``pid`` of class ``cls`` (exactly what :func:`generate` writes)."""
    sample = check_sample_size(n_range, n_scale, design_mix)
    return _image(seed, cls, pid, style, check_params(class_params), sample)


def _image(
    seed: int, cls: str, pid: int, style: Any, params: Mapping[str, SpoilParams], sample: SampleSize
) -> Any:
    if cls == NEGATIVE_CLASS:
        return make_negative(seed, pid, style)
    rng = plot_rng(seed, cls, pid)
    if sample.design_mix and rng.random() < sample.design_mix:  # one of the design families
        fit, plot = simulate_design_plot(cls, rng, sample.draw(rng))
        return render(fit.fitted, fit.residuals, resolve_style(style, rng, plot.n))
    sim = simulate(cls, rng, params, sample)  # the reference's process
    return render(sim.fitted, sim.residuals, resolve_style(style, rng, sim.n))


def _write_plot(
    seed: int, style: Any, params: Mapping[str, SpoilParams], sample: SampleSize, task: _Task
) -> None:
    path = Path(task.path)
    if path.exists():
        return
    image = _image(seed, task.cls, task.id, style, params, sample)
    with atomic_path(path) as tmp:
        save_png(image, tmp)


def _run_chunk(
    seed: int, style: Any, params: Mapping[str, SpoilParams], sample: SampleSize, tasks: Sequence[_Task]
) -> int:
    for task in tasks:
        _write_plot(seed, style, params, sample, task)
    return len(tasks)


def _die_with_parent(parent: int) -> None:
    """Make this worker process end when ``parent`` does (Linux: the kernel's parent-death signal; else, and
    in case the parent died before that was set, a check of the parent pid)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:
        os._exit(1)


def _worker_init(parent: int) -> None:
    _die_with_parent(parent)
    tune_process()


# --------------------------------------------------------------------------- settings & manifest


def _settings(
    classes: Sequence[str],
    train: Mapping[str, int],
    test: Mapping[str, int],
    seed: int,
    style: Any,
    params: Mapping[str, SpoilParams],
    sample: SampleSize,
) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "version": GENERATOR_VERSION,
        "classes": list(classes),
        "train_per_class": dict(train),
        "test_per_class": dict(test),
        "seed": seed,
        "style": style,
    }
    used = {
        c: {"kinds": list(params[c].kinds), "strength": list(params[c].strength)}
        for c in classes
        if c in KINDS
    }
    if used:  # only data sets with a new class record them (older generator.json files stay valid)
        settings["class_params"] = used
    if (
        sample != DEFAULT_SAMPLE_SIZE
    ):  # the reference's n is not recorded (older generator.json files stay valid)
        settings["n_range"] = [sample.low, sample.high]
        settings["n_scale"] = sample.scale
    if sample.design_mix:
        settings["design_mix"] = sample.design_mix
    settings.update(drawing_revisions(style, sample.design_mix, classes))
    return json.loads(json.dumps(settings))  # as read back from generator.json (tuples -> lists)


def drawing_revisions(style: Any, design_mix: float, classes: Sequence[str]) -> dict[str, int]:
    """The revisions of the code that draws such a set's plots (the designs', the ``general`` style's, the
    non-plots'), only those it uses: a set or cache drawn by another revision holds other pictures."""
    revisions: dict[str, int] = {}
    if design_mix:
        revisions["designs"] = DESIGNS_REVISION
    if style == "general" or (isinstance(style, Mapping) and style.get("base") == "general"):
        revisions["general_style"] = GENERAL_STYLE_REVISION
    if NEGATIVE_CLASS in classes:
        revisions["negatives"] = NEGATIVES_REVISION
    return revisions


def _check_settings(root: Path, settings: dict[str, Any], overwrite: bool) -> None:
    path = root / "generator.json"
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        if overwrite:
            return
        raise SettingsMismatchError(
            f"{path} is unreadable ({err}); pass overwrite=True", "generator.json"
        ) from None
    if overwrite:
        return
    for key in [*settings, *(k for k in SETTING_DEFAULTS if k not in settings)]:
        was, now = old.get(key, SETTING_DEFAULTS.get(key)), settings.get(key, SETTING_DEFAULTS.get(key))
        if was != now:
            raise SettingsMismatchError(
                f"{key}: {root} was generated with {key}={was!r}, not {now!r}; use another root or overwrite=True",
                key,
                was,
                now,
            )


def _clear(root: Path) -> None:
    """Remove what a previous generator run wrote (for overwrite=True)."""
    for split in SPLITS:
        shutil.rmtree(root / split, ignore_errors=True)
    for name in ("manifest.csv", "generator.json"):
        with contextlib.suppress(FileNotFoundError):
            (root / name).unlink()


def _manifest(
    root: Path, tasks: Iterable[_Task], seed: int, params: Mapping[str, SpoilParams], sample: SampleSize
) -> None:
    """``manifest.csv``, written row by row to a temporary file, then renamed."""
    with atomic_path(root / "manifest.csv") as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for t in tasks:
            h = plot_header(seed, t.cls, t.id, params, sample)
            strength = "" if h.strength is None else f"{h.strength:.6g}"
            file = Path(t.path).relative_to(root).as_posix()
            writer.writerow(
                [t.cls, t.split, t.id, h.n, h.predictors, h.controls, h.kind or "", strength, seed, file]
            )


def _checked(
    classes: Sequence[str],
    train_per_class: int | Mapping[str, int],
    test_per_class: int | Mapping[str, int],
    seed: int,
    style: Any,
    class_params: Mapping[str, Any] | None,
    n_range: Sequence[int],
    n_scale: str,
    design_mix: float = 0.0,
) -> tuple[tuple[str, ...], dict[str, int], dict[str, int], Any, dict[str, SpoilParams], SampleSize]:
    """The arguments of :func:`generate` that define a data set, validated (one-line errors naming the field)."""
    classes_t = _check_classes(classes)
    train = _check_counts("train_per_class", train_per_class, classes_t)
    test = _check_counts("test_per_class", test_per_class, classes_t)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise GeneratorError(f"seed: expected a non-negative integer, got {seed!r}")
    style = _plain(style)
    params = _check_class_params(class_params)
    sample = _check_sample_size(n_range, n_scale, design_mix)
    _check_style(style, int(seed), classes_t[0])
    return classes_t, train, test, style, params, sample


# --------------------------------------------------------------------------- public API


def generate(
    root: str | os.PathLike[str],
    classes: Sequence[str] = ORIGINAL_CLASSES,
    train_per_class: int | Mapping[str, int] = 300,
    test_per_class: int | Mapping[str, int] = 100,
    seed: int = 0,
    workers: int = 0,
    style: str | Mapping[str, Any] = "r",
    overwrite: bool = False,
    progress: bool = True,
    class_params: Mapping[str, Any] | None = None,
    n_range: Sequence[int] = N_RANGE,
    n_scale: str = "uniform",
    design_mix: float = 0.0,
    shard: str | None = None,
) -> Path:
    """Draw the data set into ``root`` (see the module docstring) and return ``root`` as a Path.

    ``train_per_class``/``test_per_class``: an int or a dict class -> int. ``workers``: processes,
    0 = all cores, 1 = in this process. ``style``: ``"r"``, ``"varied"``, a preset name
    (``matplotlib``, ``seaborn``, ``statsmodels``) or a dict of Style field overrides (optional
    ``base``). ``class_params``: ``{heteroskedastic|nonlinear: {kinds: [...], strength: [low, high]}}``
    (defaults in :data:`plotlstm.synth.simulate.DEFAULT_PARAMS`). ``n_range``/``n_scale``: each plot's sample
    size, ``[low, high]`` drawn ``uniform`` (the reference: 100..10,000) or ``log``. ``design_mix``: the share of
    plots whose design and violation come from :mod:`plotlstm.synth.designs` (0: the reference's only).
    ``shard``: ``"K/N"`` draws only the K-th of N disjoint parts (plot ids ``K - 1`` modulo N), so that N jobs
    (a cluster's job array) draw one set into one root at once; a shard writes no manifest: one plain run after
    them finds every plot drawn and writes it (docs/generator.md). Raises :class:`GeneratorError` (a ValueError) for bad arguments, an unwritable
    root or a failed write, :class:`SettingsMismatchError` if ``root`` was made with other
    settings and ``overwrite`` is False.
    """
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 0:
        raise GeneratorError(f"workers: expected an integer >= 0 (0 = all cores), got {workers!r}")
    classes_t, train, test, style, params, sample = _checked(
        classes, train_per_class, test_per_class, seed, style, class_params, n_range, n_scale, design_mix
    )
    part = check_shard(shard)
    root = Path(os.fspath(_plain(root))).expanduser()
    settings = _settings(classes_t, train, test, int(seed), style, params, sample)
    _check_root(root)
    with _root_lock(root, part):
        _check_settings(root, settings, overwrite)
        try:
            if overwrite and (root / "generator.json").exists():
                _clear(root)
            write_json(root / "generator.json", settings)
            for cls in classes_t:
                for split in SPLITS:
                    folder = root / split / cls
                    folder.mkdir(parents=True, exist_ok=True)
                    for stale in folder.glob("*.tmp") if part == (1, 1) else ():  # a shard's are others'
                        stale.unlink()
            total = sum(1 for _ in _plan(root, classes_t, train, test, part))
            _draw(
                _plan(root, classes_t, train, test, part),
                total,
                int(seed),
                style,
                params,
                sample,
                int(workers) or (os.cpu_count() or 1),
                progress,
                root,
            )
            if part == (1, 1):
                _manifest(root, _plan(root, classes_t, train, test), int(seed), params, sample)
        except OSError as err:
            where = err.filename or root
            reason = "disk full" if err.errno == errno.ENOSPC else (err.strerror or str(err))
            raise GeneratorError(f"root: cannot write {where}: {reason}") from None
    return root


def check_settings(
    root: str | os.PathLike[str],
    classes: Sequence[str] = ORIGINAL_CLASSES,
    train_per_class: int | Mapping[str, int] = 300,
    test_per_class: int | Mapping[str, int] = 100,
    seed: int = 0,
    style: str | Mapping[str, Any] = "r",
    class_params: Mapping[str, Any] | None = None,
    n_range: Sequence[int] = N_RANGE,
    n_scale: str = "uniform",
    design_mix: float = 0.0,
    **_: Any,
) -> None:
    """Raise :class:`SettingsMismatchError` if ``root`` holds a data set drawn with settings other than these
    (the arguments of :func:`generate`; others are ignored). Draws nothing."""
    classes_t, train, test, style, params, sample = _checked(
        classes, train_per_class, test_per_class, seed, style, class_params, n_range, n_scale, design_mix
    )
    root = Path(os.fspath(_plain(root))).expanduser()
    _check_settings(
        root, _settings(classes_t, train, test, int(seed), style, params, sample), overwrite=False
    )


def _progress_bar(total: int, enabled: bool, root: Path) -> ProgressBar:
    return ProgressBar(total, f"generate {root}", enabled)


def _chunks(tasks: Iterable[_Task], size: int) -> Iterator[list[_Task]]:
    it = iter(tasks)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _draw(
    tasks: Iterable[_Task],
    total: int,
    seed: int,
    style: Any,
    params: Mapping[str, SpoilParams],
    sample: SampleSize,
    workers: int,
    progress: bool,
    root: Path,
) -> None:
    """Draw the plots of ``tasks`` (streamed) whose files are missing; ``total`` sizes the progress bar (plots
    already there count as done). At most ``4 * workers`` chunks are queued at a time."""
    bar = _progress_bar(total, progress, root)

    def missing() -> Iterator[_Task]:
        for task in tasks:
            if os.path.exists(task.path):
                bar.update(1)
            else:
                yield task

    try:
        chunks = _chunks(missing(), CHUNK)
        first = next(chunks, [])
        if workers <= 1 or len(first) < CHUNK:
            with threadpool_limits(1, user_api="blas"):  # the renderer's small products: faster on one thread
                for task in itertools.chain(first, itertools.chain.from_iterable(chunks)):
                    _write_plot(seed, style, params, sample, task)
                    bar.update(1)
            return
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        env = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        os.environ.update({k: "1" for k in env})  # for spawned workers
        try:
            with ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context(method),
                initializer=_worker_init,
                initargs=(os.getpid(),),
            ) as pool:
                pending: set[Future[int]] = set()
                source = itertools.chain([first], chunks)
                while True:
                    for chunk in itertools.islice(source, max(0, 4 * workers - len(pending))):
                        pending.add(pool.submit(_run_chunk, seed, style, params, sample, chunk))
                    if not pending:
                        break
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        if fut.exception() is not None:
                            for p in pending:
                                p.cancel()
                            raise fut.exception()  # type: ignore[misc]
                        bar.update(fut.result())
        finally:
            for k, v in env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    finally:
        bar.close()
