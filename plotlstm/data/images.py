"""The one place where an image becomes model input: training, the library, the CLI and the service use it.

Every path that decodes goes through :func:`open_image`: only the formats in :data:`IMAGE_FORMATS` are tried
(by name, before any decoder runs: a PostScript file named ``.png`` never reaches Ghostscript), the pixel count
is checked from the header, and failures are typed (:class:`UnsupportedImage`, :class:`ImageTooLarge`,
:class:`CorruptImage`) with one line naming the file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from struct import error as struct_error
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, PngImagePlugin, UnidentifiedImageError
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

from plotlstm.errors import DataError, first_line

IMAGE_SIZE = 256
INTERPOLATIONS = {
    "nearest": InterpolationMode.NEAREST,
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
    "box": InterpolationMode.BOX,
}
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
"""The only decoders plotlstm runs (Pillow format names); every other format is refused by name."""
MAX_PIXELS = 50_000_000
"""Width x height above which an image is refused from its header (a decompression bomb)."""

# Pillow's own bomb check (a warning above, an error above twice) follows ours.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class UnsupportedImage(DataError):
    """Not an image, or an image in a format outside :data:`IMAGE_FORMATS`."""


class ImageTooLarge(DataError):
    """More pixels than allowed, or metadata above Pillow's safety limits (refused before decoding)."""


class CorruptImage(DataError):
    """An image in an accepted format whose data is truncated or corrupt."""


def _is_text_limit(err: BaseException) -> bool:
    return "MAX_TEXT" in str(err)


def _text_limit(name: str) -> ImageTooLarge:
    return ImageTooLarge(
        f"{name}: PNG metadata (a text chunk) above {PngImagePlugin.MAX_TEXT_CHUNK // 2**20} MB "
        "decompressed or {0} MB in all; refused as a possible decompression bomb".format(
            PngImagePlugin.MAX_TEXT_MEMORY // 2**20
        )
    )


def open_image(source: str | Path | BinaryIO, name: str = "", max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open ``source`` (a path or a binary file) reading its header only: an accepted format, at most
    ``max_pixels`` pixels. ``name`` labels errors (default: the path). Decode with :func:`decode_rgb`."""
    name = name or str(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # max_pixels decides below
            img = Image.open(source, formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise ImageTooLarge(f"{name}: image too large to decode (more than {max_pixels} pixels)") from None
    except FileNotFoundError:
        raise DataError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{name}: is a folder, not an image file") from None
    except PermissionError:
        raise DataError(f"{name}: permission denied") from None
    except ValueError as err:
        if _is_text_limit(err):
            raise _text_limit(name) from None
        raise UnsupportedImage(
            f"{name}: not a readable image in a supported format ({', '.join(IMAGE_FORMATS)})"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, struct_error):
        raise UnsupportedImage(
            f"{name}: not a readable image in a supported format ({', '.join(IMAGE_FORMATS)})"
        ) from None
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ImageTooLarge(
            f"{name}: image is {width}x{height} = {width * height} pixels, above the limit of {max_pixels}"
        )
    return img


def decode_rgb(img: Image.Image, name: str = "") -> Image.Image:
    """Decode an image opened by :func:`open_image` fully, as RGB (closes ``img``)."""
    name = name or str(getattr(img, "filename", "") or "image")
    with img:
        try:
            img.load()
            return to_rgb(img)
        except ValueError as err:
            if _is_text_limit(err):
                raise _text_limit(name) from None
            raise CorruptImage(
                f"{name}: truncated or corrupt {img.format} image ({first_line(err)})"
            ) from None
        except Exception as err:  # noqa: BLE001 - any decoder failure is the file's fault
            raise CorruptImage(
                f"{name}: truncated or corrupt {img.format} image ({first_line(err)})"
            ) from None


def open_rgb(path: str | Path, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an image file (an accepted format) fully and convert any mode to RGB; DataError names the file."""
    return decode_rgb(open_image(path, str(path), max_pixels), str(path))


def _grey_uint8(img: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float grey images as 8-bit grey, scaled by bit depth (integers) or range."""
    array = np.asarray(img)
    if img.mode == "F":
        values = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        if low >= 0.0 and high <= 1.0:
            scaled = values * 255.0  # the usual [0, 1] float image
        elif low >= 0.0 and high <= 255.0:
            scaled = values
        else:
            scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    elif img.mode.startswith("I;16"):
        scaled = array.astype(np.float64) / 257.0  # 65535 -> 255, any byte order
    else:  # "I": 32-bit signed integers
        values = array.astype(np.float64)
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        if low >= 0 and high <= 255:
            scaled = values
        elif low >= 0 and high <= 65535:
            scaled = values / 257.0
        else:
            scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB version of ``img``; transparent pixels become white, as on the plots' white background."""
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        return _grey_uint8(img).convert("RGB")
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
