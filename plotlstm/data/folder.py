"""An ImageFolder of plots (``root/<class>/*.png``) read the way training reads it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS, has_file_allowed_extension

from plotlstm.data.images import IMAGE_SIZE, image_to_uint8, open_rgb
from plotlstm.errors import DataError

log = logging.getLogger(__name__)


def check_split(root: Path, split: str) -> list[str]:
    """The class folder names of ``root/split``; one clear error if the folder or any class is missing or empty."""
    folder = root / split
    if not folder.is_dir():
        raise DataError(
            f"data.root: {folder} does not exist; make the data with `python -m plotlstm.generate` "
            "(or run training with an experiment that generates it)"
        )
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"data.root: {folder} has no class folders")
    for name in classes:
        if not any(f.suffix.lower() in IMG_EXTENSIONS for f in (folder / name).iterdir()):
            raise DataError(f"data.root: class folder {folder / name} has no images")
    return classes


def decodes(path: str) -> bool:
    """Whether the file decodes completely (not only its header and checksums)."""
    try:
        open_rgb(path)
    except DataError:
        return False
    return True


class PlotFolder(ImageFolder):
    """torchvision's ImageFolder yielding (uint8 (3, S, S) tensor, class index), decoded by
    :func:`plotlstm.data.images.open_rgb` (one line naming a file it cannot read) and resized by
    :func:`~plotlstm.data.images.image_to_uint8`.

    ``skip_unreadable``: leave out files that do not decode (listed in ``skipped``, logged). ``class_names``: the
    class index of each folder is its place in this list (a checkpoint's classes), not in the folder's own.
    """

    def __init__(
        self,
        root: str | Path,
        image_size: int = IMAGE_SIZE,
        interpolation: str = "nearest",
        skip_unreadable: bool = False,
        class_names: Sequence[str] | None = None,
    ) -> None:
        self.skipped: list[str] = []
        self.class_names = list(class_names) if class_names is not None else None

        def valid(path: str) -> bool:
            if not has_file_allowed_extension(path, IMG_EXTENSIONS):
                return False
            if skip_unreadable and not decodes(path):
                self.skipped.append(path)
                return False
            return True

        transform = functools.partial(image_to_uint8, size=image_size, interpolation=interpolation)
        super().__init__(
            str(root), loader=open_rgb, transform=transform, is_valid_file=valid, allow_empty=skip_unreadable
        )
        if self.skipped:
            log.warning(
                "skipped %d unreadable files in %s, first: %s", len(self.skipped), root, self.skipped[0]
            )

    def find_classes(self, directory: str | Path) -> tuple[list[str], dict[str, int]]:
        classes, class_to_idx = super().find_classes(directory)
        if self.class_names is not None:
            class_to_idx = {c: self.class_names.index(c) for c in classes}
        return classes, class_to_idx
