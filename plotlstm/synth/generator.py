"""Draw a synthetic plot data set: ``generate()`` (the command is ``python -m plotlstm.generate``).

Layout written under ``root`` (torchvision ImageFolder)::

    root/train/<class>/<class>_<id>.png     ids 0 .. train-1
    root/test/<class>/<class>_<id>.png      ids train .. train+test-1 (other plots than train)
    root/manifest.csv                       class, split, id, n, predictors, controls, kind, strength, seed, file
    root/generator.json                     the settings; a rerun with other settings refuses

Plot ``id`` of class ``c`` depends only on ``(seed, c, id)``, so generation runs in parallel,
in any order, and resumes: existing PNGs are kept, stale ``*.tmp`` files removed, and only the
missing plots drawn. Every PNG is written to ``*.tmp`` in its folder first, then renamed.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import multiprocessing
import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from plotlstm.atomic import atomic_path, write_json, write_text
from plotlstm.errors import GeneratorError, SettingsMismatchError
from plotlstm.synth.negatives import NEGATIVE_CLASS, make_negative
from plotlstm.synth.render import render, save_png, tune_process
from plotlstm.synth.simulate import (
    CLASSES,
    KINDS,
    ORIGINAL_CLASSES,
    Header,
    SpoilParams,
    check_params,
    draw_header,
    plot_rng,
    simulate,
)
from plotlstm.synth.style import resolve_style, validate_style_option

GENERATOR_VERSION = 2
"""Bumped whenever the same settings would draw different images (2: statsmodels lowess, Pillow PNG)."""
SPLITS = ("train", "test")
MANIFEST_COLUMNS = ("class", "split", "id", "n", "predictors", "controls", "kind", "strength", "seed", "file")
CHUNK = 32


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


def _check_root(root: Path) -> None:
    """Create ``root`` and write/delete a probe file there; GeneratorError if that fails."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}.tmp"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise GeneratorError(f"root: cannot write to {root}: {err.strerror or err}") from None


# --------------------------------------------------------------------------- planning


def id_width(total: int) -> int:
    """Digits of the zero-padded ids (at least 6)."""
    return max(6, len(str(max(total - 1, 0))))


def plot_path(root: Path, split: str, cls: str, pid: int, width: int = 6) -> Path:
    """Where plot ``pid`` of class ``cls`` lives."""
    return root / split / cls / f"{cls}_{pid:0{width}d}.png"


def _plan(
    root: Path, classes: Sequence[str], train: Mapping[str, int], test: Mapping[str, int]
) -> list[_Task]:
    tasks = []
    for cls in classes:
        width = id_width(train[cls] + test[cls])
        for split, start, count in (("train", 0, train[cls]), ("test", train[cls], test[cls])):
            for pid in range(start, start + count):
                tasks.append(_Task(cls, split, pid, str(plot_path(root, split, cls, pid, width))))
    return tasks


def _check_class_params(class_params: Any) -> dict[str, SpoilParams]:
    try:
        return check_params(_plain(class_params))
    except ValueError as err:
        raise GeneratorError(str(err)) from None


def plot_header(seed: int, cls: str, pid: int, params: Mapping[str, SpoilParams] | None = None) -> Header:
    """n, predictors, controls (and kind, strength) of a plot without simulating it (its rng's first draws).

    A non-plot (class ``unrecognized``) has no data set: zeros."""
    if cls == NEGATIVE_CLASS:
        return Header(0, 0, 0)
    return draw_header(cls, plot_rng(seed, cls, pid), params)


def plot_shape(seed: int, cls: str, pid: int) -> tuple[int, int, int]:
    """(n, predictors, controls) of a plot without simulating it (the rng's first three draws)."""
    h = plot_header(seed, cls, pid)
    return h.n, h.predictors, h.controls


# --------------------------------------------------------------------------- drawing


def make_plot(
    seed: int, cls: str, pid: int, style: Any = "r", class_params: Mapping[str, Any] | None = None
) -> Any:
    """The PIL image of plot ``pid`` of class ``cls`` (exactly what :func:`generate` writes)."""
    if cls == NEGATIVE_CLASS:
        return make_negative(seed, pid, style)
    rng = plot_rng(seed, cls, pid)
    sim = simulate(cls, rng, check_params(class_params))
    return render(sim.fitted, sim.residuals, resolve_style(style, rng))


def _write_plot(seed: int, style: Any, params: Mapping[str, SpoilParams], task: _Task) -> None:
    path = Path(task.path)
    if path.exists():
        return
    if task.cls == NEGATIVE_CLASS:
        image = make_negative(seed, task.id, style)
    else:
        rng = plot_rng(seed, task.cls, task.id)
        sim = simulate(task.cls, rng, params)
        image = render(sim.fitted, sim.residuals, resolve_style(style, rng))
    with atomic_path(path) as tmp:
        save_png(image, tmp)


def _run_chunk(seed: int, style: Any, params: Mapping[str, SpoilParams], tasks: Sequence[_Task]) -> int:
    for task in tasks:
        _write_plot(seed, style, params, task)
    return len(tasks)


def _worker_init() -> None:
    tune_process()


# --------------------------------------------------------------------------- settings & manifest


def _settings(
    classes: Sequence[str],
    train: Mapping[str, int],
    test: Mapping[str, int],
    seed: int,
    style: Any,
    params: Mapping[str, SpoilParams],
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
    return json.loads(json.dumps(settings))  # as read back from generator.json (tuples -> lists)


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
    for key, value in settings.items():
        if old.get(key) != value and not overwrite:
            raise SettingsMismatchError(
                f"{key}: {root} was generated with {key}={old.get(key)!r}, not {value!r}; "
                "use another root or overwrite=True",
                key,
            )


def _clear(root: Path) -> None:
    """Remove what a previous generator run wrote (for overwrite=True)."""
    for split in SPLITS:
        shutil.rmtree(root / split, ignore_errors=True)
    for name in ("manifest.csv", "generator.json"):
        with contextlib.suppress(FileNotFoundError):
            (root / name).unlink()


def _manifest(root: Path, tasks: Sequence[_Task], seed: int, params: Mapping[str, SpoilParams]) -> None:
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MANIFEST_COLUMNS)
    for t in tasks:
        h = plot_header(seed, t.cls, t.id, params)
        strength = "" if h.strength is None else f"{h.strength:.6g}"
        file = Path(t.path).relative_to(root).as_posix()
        writer.writerow(
            [t.cls, t.split, t.id, h.n, h.predictors, h.controls, h.kind or "", strength, seed, file]
        )
    write_text(root / "manifest.csv", buf.getvalue())


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
) -> Path:
    """Draw the data set into ``root`` (see the module docstring) and return ``root`` as a Path.

    ``train_per_class``/``test_per_class``: an int or a dict class -> int. ``workers``: processes,
    0 = all cores, 1 = in this process. ``style``: ``"r"``, ``"varied"``, a preset name
    (``matplotlib``, ``seaborn``, ``statsmodels``) or a dict of Style field overrides (optional
    ``base``). ``class_params``: ``{heteroskedastic|nonlinear: {kinds: [...], strength: [low, high]}}``
    (defaults in :data:`plotlstm.synth.simulate.DEFAULT_PARAMS`). Raises :class:`GeneratorError` (a ValueError) for bad arguments, an unwritable
    root or a failed write, :class:`SettingsMismatchError` if ``root`` was made with other
    settings and ``overwrite`` is False.
    """
    classes_t = _check_classes(classes)
    train = _check_counts("train_per_class", train_per_class, classes_t)
    test = _check_counts("test_per_class", test_per_class, classes_t)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise GeneratorError(f"seed: expected a non-negative integer, got {seed!r}")
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 0:
        raise GeneratorError(f"workers: expected an integer >= 0 (0 = all cores), got {workers!r}")
    style = _plain(style)
    try:
        validate_style_option(style)
    except ValueError as err:
        raise GeneratorError(str(err)) from None
    params = _check_class_params(class_params)
    root = Path(os.fspath(_plain(root))).expanduser()
    settings = _settings(classes_t, train, test, int(seed), style, params)
    _check_root(root)
    _check_settings(root, settings, overwrite)

    try:
        if overwrite and (root / "generator.json").exists():
            _clear(root)
        write_json(root / "generator.json", settings)
        tasks = _plan(root, classes_t, train, test)
        for folder in {Path(t.path).parent for t in tasks}:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob("*.tmp"):
                stale.unlink()
        todo = [t for t in tasks if not os.path.exists(t.path)]
        _draw(todo, int(seed), style, params, int(workers) or (os.cpu_count() or 1), progress, root)
        _manifest(root, tasks, int(seed), params)
    except OSError as err:
        where = err.filename or root
        reason = "disk full" if err.errno == errno.ENOSPC else (err.strerror or str(err))
        raise GeneratorError(f"root: cannot write {where}: {reason}") from None
    return root


def _progress_bar(total: int, enabled: bool, root: Path) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, disable=not enabled or total == 0, unit="plot", desc=f"generate {root}", file=sys.stderr
    )


def _draw(
    todo: list[_Task],
    seed: int,
    style: Any,
    params: Mapping[str, SpoilParams],
    workers: int,
    progress: bool,
    root: Path,
) -> None:
    bar = _progress_bar(len(todo), progress, root)
    try:
        if workers <= 1 or len(todo) <= CHUNK:
            with threadpool_limits(1, user_api="blas"):  # the renderer's small products: faster on one thread
                for task in todo:
                    _write_plot(seed, style, params, task)
                    bar.update(1)
            return
        chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        env = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        os.environ.update({k: "1" for k in env})  # for spawned workers
        try:
            with ProcessPoolExecutor(
                max_workers=min(workers, len(chunks)),
                mp_context=multiprocessing.get_context(method),
                initializer=_worker_init,
            ) as pool:
                pending: set[Future[int]] = {pool.submit(_run_chunk, seed, style, params, c) for c in chunks}
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
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
