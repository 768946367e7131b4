"""PlotDataModule and the shared preprocessing: modes, sizes, splits and every bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from plotlstm.data.datamodule import PlotDataModule
from plotlstm.data.images import image_to_uint8
from plotlstm.errors import DataError


def copy_root(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "train", dst / "train")
    shutil.copytree(src / "test", dst / "test")
    return dst


def test_batches_are_uint8_256_and_classes_come_from_folders(tiny_root: Path) -> None:
    dm = PlotDataModule(tiny_root, batch_size=5)
    dm.setup("fit")
    assert dm.classes == ["biased", "ceiling", "none", "outlier"]
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (5, 3, 256, 256) and x.dtype == torch.uint8
    assert y.dtype == torch.int64 and set(y.tolist()) <= {0, 1, 2, 3}
    assert len(dm.train_set) == 16 and dm.val_set is dm.test_set and len(dm.test_set) == 8


def test_binary_data_gives_two_classes(binary_root: Path) -> None:
    dm = PlotDataModule(binary_root)
    assert dm.check() == ["ceiling", "none"]


def test_held_out_validation_fraction(tiny_root: Path) -> None:
    dm = PlotDataModule(tiny_root, val_fraction=0.25, seed=3)
    dm.setup("fit")
    assert len(dm.val_set) == 4 and len(dm.train_set) == 12
    assert not set(dm.val_set.indices) & set(dm.train_set.indices)
    targets = dm._folder("train").targets
    assert sorted(targets[i] for i in dm.val_set.indices) == [0, 1, 2, 3]  # stratified: one of each class
    assert dm.test_set is not dm.val_set


def test_stratified_split_is_seeded_and_keeps_every_class() -> None:
    from plotlstm.data.datamodule import stratified_split

    targets = [0] * 90 + [1] * 10
    fit, val = stratified_split(targets, 0.1, seed=5)
    assert sorted(fit + val) == list(range(100)) and not set(fit) & set(val)
    assert [targets[i] for i in val].count(0) == 9 and [targets[i] for i in val].count(1) == 1
    assert stratified_split(targets, 0.1, seed=5) == (fit, val) and stratified_split(
        targets, 0.1, seed=6
    ) != (fit, val)


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "I;16", "LA", "1"])
def test_any_image_mode_becomes_rgb(mode: str) -> None:
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8))
    img = rgb.convert(mode) if mode != "I;16" else Image.fromarray(np.full((40, 60), 30000, np.uint16))
    out = image_to_uint8(img, size=32)
    assert out.shape == (3, 32, 32) and out.dtype == torch.uint8


def test_resize_modes_differ_and_nearest_keeps_pixel_values() -> None:
    img = Image.fromarray(np.random.default_rng(1).choice([0, 255], (480, 480, 3)).astype(np.uint8))
    nearest = image_to_uint8(img, interpolation="nearest")
    bilinear = image_to_uint8(img, interpolation="bilinear")
    assert set(nearest.unique().tolist()) <= {0, 255}
    assert len(bilinear.unique()) > 2
    with pytest.raises(DataError, match="data.interpolation"):
        image_to_uint8(img, interpolation="lanczos9")


def test_missing_root_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist; make the data with `python -m plotlstm.generate`"):
        PlotDataModule(tmp_path / "nowhere").setup("fit")


def test_corrupt_file_is_named(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "data")
    bad = root / "train" / "none" / "none_broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    dm = PlotDataModule(root, batch_size=32)
    dm.setup("fit")
    with pytest.raises(DataError, match=r"none_broken\.png: not a readable image"):
        list(dm.train_dataloader())


def test_unreadable_files_can_be_skipped_and_counted(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "data")
    (root / "train" / "none" / "none_text.png").write_text("hello")
    good = next((root / "test" / "biased").iterdir())
    (root / "test" / "biased" / "biased_cut.png").write_bytes(good.read_bytes()[:500])
    dm = PlotDataModule(root, skip_unreadable=True)
    dm.setup("fit")
    assert sorted(Path(p).name for p in dm.skipped) == ["biased_cut.png", "none_text.png"]
    assert len(dm.train_set) == 16 and len(dm.test_set) == 8
    assert len(list(dm.train_dataloader())) == 1


def test_empty_class_folder(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "data")
    for f in (root / "test" / "outlier").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"class folder .*outlier has no images"):
        PlotDataModule(root).setup("fit")


def test_classes_must_match_between_splits(tiny_root: Path, tmp_path: Path) -> None:
    root = copy_root(tiny_root, tmp_path / "data")
    shutil.rmtree(root / "test" / "ceiling")
    with pytest.raises(DataError, match="classes differ between"):
        PlotDataModule(root).setup("fit")


def test_bad_settings_name_the_field(tiny_root: Path) -> None:
    with pytest.raises(DataError, match="data.val_fraction"):
        PlotDataModule(tiny_root, val_fraction=1.5)
    with pytest.raises(DataError, match="data.batch_size"):
        PlotDataModule(tiny_root, batch_size=0)
