"""A decoded-tensor cache: each PNG decoded and resized once into a memory-mapped uint8 store."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from plotlstm.atomic import atomic_path, write_json
from plotlstm.data.images import image_to_uint8, open_rgb
from plotlstm.progress import ProgressBar

log = logging.getLogger(__name__)
CHUNK = 256


def fingerprint(samples: Sequence[tuple[str, int]], image_size: int, interpolation: str) -> str:
    """Changes whenever a file is added, removed, renamed, rewritten, relabelled, or the resize changes."""
    h = hashlib.sha256(f"{image_size}:{interpolation}".encode())
    for path, target in samples:
        st = os.stat(path)
        h.update(f"{path}\0{target}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def _fill(store: str, shape: tuple[int, ...], start: int, paths: list[str], size: int, interp: str) -> int:
    array = np.memmap(store, dtype=np.uint8, mode="r+", shape=shape)
    for i, path in enumerate(paths):
        array[start + i] = image_to_uint8(open_rgb(path), size, interp).numpy()
    array.flush()
    return len(paths)


def build_cache(
    samples: Sequence[tuple[str, int]],
    cache_dir: str | Path,
    image_size: int,
    interpolation: str,
    workers: int = 0,
    progress: bool = True,
) -> Path:
    """Return the store for ``samples``, building it (in parallel, atomically) if it is missing or stale.

    The store is ``<key>.u8`` (N x 3 x S x S uint8) with ``<key>.json`` beside it; the JSON is written last,
    so a store without it (an interrupted build) is never used. Builders of the same store (DDP ranks, two
    runs on one data set) take turns on a lock file: the first builds, the others wait and then use its store.
    """
    cache_dir = Path(cache_dir)
    key = fingerprint(samples, image_size, interpolation)
    store, meta = cache_dir / f"{key}.u8", cache_dir / f"{key}.json"
    shape = (len(samples), 3, image_size, image_size)
    if _complete(store, meta, shape):
        return store
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(cache_dir / f"{key}.lock"):
        if _complete(store, meta, shape):  # another builder finished it while this one waited
            return store
        return _build(samples, cache_dir, store, meta, shape, image_size, interpolation, workers, progress)


def _complete(store: Path, meta: Path, shape: tuple[int, ...]) -> bool:
    return meta.is_file() and store.is_file() and store.stat().st_size == int(np.prod(shape))


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` for the block (waits for the holder; released if it dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(
    samples: Sequence[tuple[str, int]],
    cache_dir: Path,
    store: Path,
    meta: Path,
    shape: tuple[int, ...],
    image_size: int,
    interpolation: str,
    workers: int,
    progress: bool,
) -> Path:
    paths = [p for p, _ in samples]
    chunks = [(start, paths[start : start + CHUNK]) for start in range(0, len(paths), CHUNK)]
    workers = workers or os.cpu_count() or 1
    bar = ProgressBar(len(paths), f"caching {cache_dir.name}", progress)
    with atomic_path(store) as tmp:
        np.memmap(tmp, dtype=np.uint8, mode="w+", shape=shape).flush()
        fill = [(str(tmp), shape, start, part, image_size, interpolation) for start, part in chunks]
        if workers == 1 or len(chunks) == 1:
            for args in fill:
                bar.update(_fill(*args))
        else:
            with ProcessPoolExecutor(min(workers, len(chunks))) as pool:
                for done in pool.map(_fill, *zip(*fill, strict=True)):
                    bar.update(done)
    bar.close()
    targets = [t for _, t in samples]
    write_json(meta, {"shape": shape, "interpolation": interpolation, "targets": targets})
    for old in cache_dir.glob("*.json"):  # a changed data set leaves its old store behind: drop it
        if old != meta:
            old.unlink(missing_ok=True)
            old.with_suffix(".u8").unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)
    return store


class CachedPlots(Dataset):
    """(uint8 image, class index) pairs read from a cache store, the same items as the PlotFolder it came from."""

    def __init__(self, store: str | Path) -> None:
        meta = json.loads(Path(store).with_suffix(".json").read_text())
        self.store, self.shape = str(store), tuple(meta["shape"])
        self.targets = torch.tensor(meta["targets"], dtype=torch.long)
        self._array: np.memmap | None = None

    @property
    def array(self) -> np.memmap:
        if self._array is None:  # opened lazily, so that each DataLoader worker maps it itself
            self._array = np.memmap(self.store, dtype=np.uint8, mode="r", shape=self.shape)
        return self._array

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(np.array(self.array[index])), int(self.targets[index])

    def to(self, device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole set as (images, targets) tensors on ``device``."""
        with warnings.catch_warnings():  # read-only map: the tensor is never written
            warnings.simplefilter("ignore", UserWarning)
            images = torch.from_numpy(np.asarray(self.array))
        return images.to(device), self.targets.to(device)


class DeviceBatches:
    """Batches cut from tensors that already live on the device (shuffled per epoch, sharded for DDP)."""

    def __init__(
        self,
        images: torch.Tensor,
        targets: torch.Tensor,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.images, self.targets, self.batch_size, self.shuffle = images, targets, batch_size, shuffle
        self.seed, self.rank, self.world_size, self.epoch = seed, rank, world_size, 0

    def _indices(self) -> torch.Tensor:
        n = len(self.targets)
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(n, generator=g)
            self.epoch += 1
        else:
            order = torch.arange(n)
        return order[self.rank :: self.world_size].to(self.images.device)

    def __len__(self) -> int:
        per_rank = -(-len(self.targets) // self.world_size)
        return -(-per_rank // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        idx = self._indices()
        for start in range(0, len(idx), self.batch_size):
            batch = idx[start : start + self.batch_size]
            yield self.images[batch], self.targets[batch]
