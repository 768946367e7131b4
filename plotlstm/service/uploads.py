"""Read a request's uploaded images into memory, within the limits, and decode them safely."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from plotlstm.data.images import to_rgb
from plotlstm.errors import DataError
from plotlstm.service.settings import ServiceSettings

FIELD = "files"
# Decoders we accept; others (EPS, which runs Ghostscript, and rarer formats) are refused before parsing.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


class RequestError(Exception):
    """An answer to a bad request: HTTP ``status`` and a one-line ``message`` (plus ``extra`` JSON fields)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class Upload:
    """One uploaded file, held in memory. ``filename`` is only ever echoed back, never used as a path."""

    filename: str
    chunks: list[bytes] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


class _Collector:
    """Multipart callbacks that keep the parts named ``files`` and count them against ``max_files``."""

    def __init__(self, max_files: int) -> None:
        self.max_files = max_files
        self.uploads: list[Upload] = []
        self.other_fields: set[str] = set()
        self._headers: dict[bytes, bytes] = {}
        self._field = self._value = b""
        self._current: Upload | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
        }

    def part_begin(self) -> None:
        self._headers, self._current = {}, None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(
            self._headers.get(b"content-disposition", b"").decode("latin-1")
        )
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name != FIELD:
            self.other_fields.add(name)
            return
        if len(self.uploads) >= self.max_files:
            raise RequestError(
                413,
                f"too many files: at most {self.max_files} images per request (max_files)",
                max_files=self.max_files,
            )
        self._current = Upload(options.get(b"filename", b"").decode("utf-8", "replace"))
        self.uploads.append(self._current)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current.chunks.append(bytes(data[start:end]))


async def read_uploads(request: Request, settings: ServiceSettings) -> list[Upload]:
    """The images in the request's multipart field ``files``, read in memory while counting bytes."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if not content_type and request.headers.get("content-length", "0").strip() in ("", "0"):
        raise RequestError(
            422, f"no images: send one or more files as multipart/form-data in the field '{FIELD}'"
        )
    if content_type != b"multipart/form-data":
        shown = content_type.decode("latin-1") or "none"
        raise RequestError(
            415, f"send the images as multipart/form-data in the field '{FIELD}' (got content type {shown})"
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise RequestError(422, "malformed multipart body: the content type has no boundary")
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise RequestError(400, f"bad Content-Length header: {declared[:40]!r}")
        if int(declared) > limit:
            raise RequestError(
                413,
                f"request too large: {_mb(int(declared))}, the limit is {_mb(limit)} (max_upload_mb)",
                max_upload_mb=settings.max_upload_mb,
            )
    collector = _Collector(settings.max_files)
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise RequestError(
                    413,
                    f"request too large: more than {_mb(limit)} (max_upload_mb)",
                    max_upload_mb=settings.max_upload_mb,
                )
            parser.write(chunk)
        parser.finalize()
    except (MultipartParseError, ValueError) as err:
        raise RequestError(
            422, f"malformed multipart body ({str(err).splitlines()[0] if str(err) else 'unreadable'})"
        ) from None
    if not collector.uploads:
        others = (
            f" (got fields: {', '.join(sorted(collector.other_fields))})" if collector.other_fields else ""
        )
        raise RequestError(422, f"no images: send one or more files in the multipart field '{FIELD}'{others}")
    return collector.uploads


def decode_image(data: bytes, filename: str, index: int, settings: ServiceSettings) -> Image.Image:
    """Decode one upload to an RGB image, refusing non-images, unsupported formats, bombs and broken files."""
    where = {"filename": filename, "index": index}
    label = filename or f"file {index}"
    if not data:
        raise RequestError(422, f"{label}: empty file", **where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # max_pixels decides below
            img = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise RequestError(
            413, f"{label}: image too large to decode (max_pixels {settings.max_pixels})", **where
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise RequestError(
            415, f"{label}: not an image in a supported format ({', '.join(FORMATS)})", **where
        ) from None
    with img:
        width, height = img.size  # from the header: nothing decoded yet
        if width * height > settings.max_pixels:
            raise RequestError(
                413,
                f"{label}: image is {width}x{height} = {width * height} pixels, "
                f"above the limit of {settings.max_pixels} (max_pixels)",
                **where,
            )
        try:
            img.load()
            return to_rgb(img)
        except Exception as err:  # noqa: BLE001 - any decoder failure is the file's fault
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise RequestError(
                422, f"{label}: truncated or corrupt {img.format} image ({first})", **where
            ) from None


def prepare_upload(
    prepare: Any, data: bytes, filename: str, index: int, settings: ServiceSettings
) -> torch.Tensor:
    """Decode and preprocess one upload with the classifier's ``prepare`` (runs in a worker thread)."""
    img = decode_image(data, filename, index, settings)
    try:
        return prepare(img)
    except DataError as err:
        raise RequestError(
            422, f"{filename or f'file {index}'}: {err}", filename=filename, index=index
        ) from None
