"""``PlotDataModule``: ImageFolder data at ``ROOT/train`` and ``ROOT/test``, as the seed's Keras generators."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from plotlstm.data.cache import CachedPlots, DeviceBatches, build_cache
from plotlstm.data.folder import PlotFolder, check_split
from plotlstm.data.images import IMAGE_SIZE
from plotlstm.errors import DataError

log = logging.getLogger(__name__)
CACHE_MODES = ("none", "disk", "device", "auto")


def stratified_split(targets: Sequence[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, validation) indices: ``fraction`` of each class (at least one), drawn by ``seed``."""
    targets_t = torch.as_tensor(list(targets))
    order = torch.randperm(len(targets_t), generator=torch.Generator().manual_seed(seed))
    fit: list[int] = []
    val: list[int] = []
    for cls in torch.unique(targets_t).tolist():
        members = order[targets_t[order] == cls].tolist()
        n_val = max(1, round(fraction * len(members)))
        val += members[:n_val]
        fit += members[n_val:]
    return sorted(fit), sorted(val)


class PlotDataModule(L.LightningDataModule):
    """Train on ``root/train`` and validate on a stratified ``val_fraction`` of it (the checkpoint is chosen there,
    never on ``root/test``, which is only reported); ``val_fraction=0`` validates on ``root/test`` as the original
    did (the ``seed_*`` experiments, which reproduce the write-up).

    ``cache``: ``none`` decodes every PNG every epoch; ``disk`` decodes each once into a memory-mapped uint8
    store under ``cache_dir`` (rebuilt when the files change); ``device`` also keeps the whole set on the
    training device (the GPU) and cuts batches there; ``auto`` picks ``device`` on a GPU with room for it,
    else ``disk``.

    Images of any mode become RGB, are resized to ``image_size`` (``interpolation``) and reach the model as uint8;
    the model scales them to [0, 1] on its device. Binary or four-class follows from the class folders.
    """

    def __init__(
        self,
        root: str | Path,
        batch_size: int = 50,
        num_workers: int = 0,
        pin_memory: bool = False,
        image_size: int = IMAGE_SIZE,
        interpolation: str = "nearest",
        val_fraction: float = 0.0,
        skip_unreadable: bool = False,
        seed: int = 0,
        cache: str = "none",
        cache_dir: str | Path | None = None,
        cache_workers: int = 0,
    ) -> None:
        super().__init__()
        if not 0.0 <= val_fraction < 1.0:
            raise DataError(f"data.val_fraction: must be in [0, 1), got {val_fraction}")
        if batch_size < 1:
            raise DataError(f"data.batch_size: must be positive, got {batch_size}")
        self.root = Path(root)
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.image_size, self.interpolation = image_size, interpolation
        self.val_fraction, self.skip_unreadable, self.seed = val_fraction, skip_unreadable, seed
        if cache not in CACHE_MODES:
            raise DataError(f"data.cache: unknown value {cache!r}; use one of {list(CACHE_MODES)}")
        self.cache, self.cache_workers = cache, cache_workers
        self.cache_dir = Path(cache_dir) if cache_dir else self.root / ".cache"
        self.classes: list[str] = []
        self.skipped: list[str] = []
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.test_set: Dataset | None = None
        self.mode = cache
        self._on_device: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def _folder(self, split: str) -> PlotFolder:
        folder = PlotFolder(self.root / split, self.image_size, self.interpolation, self.skip_unreadable)
        self.skipped += folder.skipped
        return folder

    def prepare_data(self) -> None:
        self.check()

    def check(self) -> list[str]:
        """Check both splits and that their class sets agree; return the classes."""
        train, test = check_split(self.root, "train"), check_split(self.root, "test")
        if train != test:
            raise DataError(
                f"data.root: classes differ between {self.root / 'train'} {train} and {self.root / 'test'} {test}"
            )
        self.classes = train
        return train

    def _cached(self, folder: PlotFolder, split: str) -> CachedPlots:
        store = build_cache(
            folder.samples, self.cache_dir / split, self.image_size, self.interpolation, self.cache_workers
        )
        return CachedPlots(store)

    def _device(self) -> torch.device:
        trainer = getattr(self, "trainer", None)
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def _resolve_cache(self, n_images: int) -> str:
        if self.cache != "auto":
            return self.cache
        device = self._device()
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            if n_images * 3 * self.image_size**2 < 0.5 * free:
                return "device"
        return "disk"

    def setup(self, stage: str | None = None) -> None:
        self.check()
        if self.train_set is not None or self.test_set is not None:
            return
        train, test = self._folder("train"), self._folder("test")
        mode = self._resolve_cache(len(train) + len(test))
        self.mode = mode
        train_data: Dataset = train if mode == "none" else self._cached(train, "train")
        self.test_set = test if mode == "none" else self._cached(test, "test")
        if self.val_fraction > 0:
            fit, val = stratified_split(train.targets, self.val_fraction, self.seed)
            self.train_set, self.val_set = Subset(train_data, fit), Subset(train_data, val)
        else:
            self.train_set, self.val_set = train_data, self.test_set

    def _loader(self, dataset: Dataset | None, shuffle: bool) -> DataLoader | DeviceBatches:
        assert dataset is not None, "call setup() first"
        if self.mode == "device":
            return self._device_batches(dataset, shuffle)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )

    def _device_batches(self, dataset: Dataset, shuffle: bool) -> DeviceBatches:
        key = id(dataset)
        if key not in self._on_device:
            base, index = (
                (dataset.dataset, dataset.indices) if isinstance(dataset, Subset) else (dataset, None)
            )
            images, targets = base.to(self._device())
            if index is not None:
                index = torch.as_tensor(index, device=images.device)
                images, targets = images[index], targets[index]
            self._on_device[key] = (images, targets)
        trainer = getattr(self, "trainer", None)
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        return DeviceBatches(*self._on_device[key], self.batch_size, shuffle, self.seed, rank, world)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set, shuffle=False)
