"""The decoded-tensor cache: built once, reused, rebuilt when files change, never used half-built."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from plotlstm.data.cache import CachedPlots, build_cache
from plotlstm.data.datamodule import PlotDataModule
from plotlstm.data.folder import PlotFolder


def copy_root(src: Path, dst: Path) -> Path:
    for split in ("train", "test"):
        shutil.copytree(src / split, dst / split)
    return dst


def stores(root: Path, split: str = "train") -> list[Path]:
    return sorted((root / ".cache" / split).glob("*.u8"))


def test_cached_batches_equal_uncached(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "d")
    plain, disk, device = (
        PlotDataModule(root, batch_size=8, cache=mode, cache_workers=1) for mode in ("none", "disk", "device")
    )
    for dm in (plain, disk, device):
        dm.setup("fit")
    assert disk.mode == "disk" and device.mode == "device"
    for a, b, c in zip(
        plain.test_dataloader(), disk.test_dataloader(), device.test_dataloader(), strict=True
    ):
        assert torch.equal(a[0], b[0]) and torch.equal(a[0], c[0])
        assert torch.equal(a[1], b[1]) and torch.equal(a[1], c[1])
    seen = torch.cat([y for _, y in device.train_dataloader()])
    assert sorted(seen.tolist()) == sorted(y for _, y in PlotFolder(root / "train").samples)


def test_cache_is_reused_and_rebuilt_when_files_change(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "d")
    folder = PlotFolder(root / "train")
    first = build_cache(folder.samples, root / ".cache" / "train", 256, "bilinear", workers=1, progress=False)
    mtime = first.stat().st_mtime_ns
    again = build_cache(folder.samples, root / ".cache" / "train", 256, "bilinear", workers=1, progress=False)
    assert again == first and again.stat().st_mtime_ns == mtime  # reused, not rewritten

    changed = folder.samples[0][0]
    src = folder.samples[5][0]
    shutil.copyfile(src, changed)  # same name, other picture
    os.utime(changed, ns=(mtime + 10**9, mtime + 10**9))
    rebuilt = build_cache(
        PlotFolder(root / "train").samples,
        root / ".cache" / "train",
        256,
        "bilinear",
        workers=1,
        progress=False,
    )
    assert rebuilt != first and stores(root) == [rebuilt]  # the stale store is gone
    assert torch.equal(CachedPlots(rebuilt)[0][0], CachedPlots(rebuilt)[5][0])


def test_interrupted_build_is_not_used(tiny_root: Path, tmp_path: Path, monkeypatch) -> None:
    root = copy_root(tiny_root, tmp_path / "d")
    samples = PlotFolder(root / "train").samples
    import plotlstm.data.cache as cache

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "_fill", boom)
    try:
        build_cache(samples, root / ".cache" / "train", 256, "bilinear", workers=1, progress=False)
    except KeyboardInterrupt:
        pass
    assert stores(root) == [] and not list((root / ".cache" / "train").glob("*.json"))
    monkeypatch.undo()
    store = build_cache(samples, root / ".cache" / "train", 256, "bilinear", workers=1, progress=False)
    assert len(CachedPlots(store)) == len(samples)


def test_cache_with_held_out_validation(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "d")
    plain = PlotDataModule(root, val_fraction=0.25, cache="none")
    dev = PlotDataModule(root, val_fraction=0.25, cache="device", cache_workers=1)
    plain.setup("fit")
    dev.setup("fit")
    a = torch.cat([x for x, _ in plain.val_dataloader()])
    b = torch.cat([x for x, _ in dev.val_dataloader()])
    assert torch.equal(a, b)


def test_concurrent_builders_take_turns(tiny_root: Path, tmp_path: Path, monkeypatch) -> None:
    """Two builders of one store at once (as two DDP ranks): one builds, the other waits and uses it."""
    import threading
    import time

    import plotlstm.data.cache as cache

    root = copy_root(tiny_root, tmp_path / "d")
    samples = PlotFolder(root / "train").samples
    fills: list[int] = []
    real = cache._fill

    def slow_fill(*args):
        fills.append(1)
        time.sleep(0.3)  # both builders are inside build_cache at once
        return real(*args)

    monkeypatch.setattr(cache, "_fill", slow_fill)
    start = threading.Barrier(2)
    results: list[object] = [None, None]

    def build(i: int) -> None:
        start.wait()
        try:
            results[i] = build_cache(
                samples, root / ".cache" / "train", 32, "nearest", workers=1, progress=False
            )
        except BaseException as err:  # noqa: BLE001 - reported below
            results[i] = err

    threads = [threading.Thread(target=build, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results[0] == results[1] and isinstance(results[0], Path), results
    assert len(fills) == 1  # built once (one chunk), not twice
    assert len(CachedPlots(results[0])) == len(samples)
    assert not list((root / ".cache" / "train").glob("*.tmp"))
