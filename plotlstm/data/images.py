"""The one place where an image becomes model input: training, the library, the CLI and the service use it."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from plotlstm.errors import DataError

IMAGE_SIZE = 256
INTERPOLATIONS = {
    "nearest": InterpolationMode.NEAREST,
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "box": InterpolationMode.BOX,
}

# Refuse images whose pixel count would make decoding them a memory attack.
Image.MAX_IMAGE_PIXELS = 50_000_000


def open_rgb(path: str | Path) -> Image.Image:
    """Decode an image file fully and convert any mode (RGBA, L, P, I;16, ...) to RGB."""
    try:
        with Image.open(path) as img:
            img.load()
            return to_rgb(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise DataError(f"{path}: not a readable image ({err})") from None


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB version of ``img``; transparent pixels become white, as on the plots' white background."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        return img.point(lambda v: v / 256).convert("L").convert("RGB")  # 16-bit and float grey
    return img.convert("RGB")


def image_to_uint8(img: Image.Image, size: int = IMAGE_SIZE, interpolation: str = "nearest") -> torch.Tensor:
    """A PIL image as a (3, size, size) uint8 tensor, resized like training does."""
    if interpolation not in INTERPOLATIONS:
        raise DataError(
            f"data.interpolation: unknown value {interpolation!r}; use one of {sorted(INTERPOLATIONS)}"
        )
    img = to_rgb(img)
    if img.size != (size, size):
        mode = INTERPOLATIONS[interpolation]
        img = F.resize(
            img, [size, size], interpolation=mode, antialias=True
        )  # PIL: box-filtered unless nearest
    return F.pil_to_tensor(img)


def scale(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels in [0, 255] to float in [0, 1] (done on the model's device); floats pass through."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x
