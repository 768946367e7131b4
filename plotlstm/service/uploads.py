"""Read a request's uploaded images into memory, within the limits and the memory budget, and decode them."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from plotlstm.data.images import (
    IMAGE_FORMATS,
    CorruptImage,
    ImageTooLarge,
    UnsupportedImage,
    decode_rgb,
    open_image,
)
from plotlstm.errors import DataError, first_line
from plotlstm.service.budget import Ticket
from plotlstm.service.settings import ServiceSettings, image_bytes

FIELD = "files"
FORMATS = IMAGE_FORMATS  # the one allow-list (plotlstm.data.images); EPS and others are refused by name
RETRY_AFTER_S = 2


class RequestError(Exception):
    """An answer to a bad request: HTTP ``status`` and a one-line ``message`` (plus ``extra`` JSON fields and
    response ``headers``)."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
        self.extra = extra


def busy(what: str) -> RequestError:
    """503 with Retry-After: the memory budget is full for now."""
    return RequestError(
        503,
        f"busy: {what} would pass the memory budget (memory_budget_mb); retry in {RETRY_AFTER_S} s",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def take(ticket: Ticket, n: int, what: str) -> None:
    """Hold ``n`` more bytes for the request: a 413 when the request could never fit the budget (waiting would not
    help), a 503 (:func:`busy`) when it does not fit now."""
    need, most = ticket.held + n, ticket.budget.upload_limit - ticket.budget.headroom
    if need > most:
        mb = 1024 * 1024
        raise RequestError(
            413,
            f"{what} needs {need / mb:.0f} MB of the memory budget, more than a request can have "
            f"({most / mb:.0f} MB of memory_budget_mb); send fewer points or raise it",
        )
    if not ticket.take(n):
        raise busy(what)


@dataclass
class Upload:
    """One uploaded file, held in memory. ``filename`` is only ever echoed back, never used as a path."""

    filename: str
    chunks: list[bytes] = field(default_factory=list)
    _data: bytes | None = None

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data, self.chunks = b"".join(self.chunks), []
        return self._data


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


def _check_headers(request: Request, settings: ServiceSettings) -> bytes:
    """The multipart boundary, once the content type and the declared length are acceptable."""
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
    check_length(request, settings)
    return boundary


def check_length(request: Request, settings: ServiceSettings) -> None:
    """Refuse a declared ``Content-Length`` that is malformed or above ``max_upload_mb`` before reading a byte."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise RequestError(400, f"bad Content-Length header: {declared[:40]!r}")
        if int(declared) > settings.max_upload_bytes:
            raise RequestError(
                413,
                f"request too large: {_mb(int(declared))}, the limit is {_mb(settings.max_upload_bytes)} "
                "(max_upload_mb)",
                max_upload_mb=settings.max_upload_mb,
            )


@contextlib.contextmanager
def closing_on_refusal() -> Iterator[None]:
    """A refusal while the body is still coming closes the connection (the rest is not read)."""
    try:
        yield
    except RequestError as err:
        err.headers = {**(err.headers or {}), "Connection": "close"}
        raise


async def read_body(
    request: Request, settings: ServiceSettings, ticket: Ticket, consume: Callable[[bytes], Any]
) -> None:
    """The one request-body reader of every route: each chunk to ``consume``, counted against ``max_upload_mb``
    and the memory budget (``ticket``), the whole body within ``body_timeout_s``."""
    limit = settings.max_upload_bytes
    received = 0
    try:
        async for chunk in _within(request, settings.body_timeout_s):
            received += len(chunk)
            if received > limit:
                raise RequestError(
                    413,
                    f"request too large: more than {_mb(limit)} (max_upload_mb)",
                    max_upload_mb=settings.max_upload_mb,
                )
            if not ticket.take(len(chunk)):
                raise busy("this request")
            consume(chunk)
    except ClientDisconnect:
        raise RequestError(400, "the client closed the connection before the body ended") from None
    except asyncio.TimeoutError:
        raise RequestError(
            408,
            f"upload too slow: the body did not arrive within {settings.body_timeout_s:g} s (body_timeout_s)",
        ) from None


async def read_uploads(request: Request, settings: ServiceSettings, ticket: Ticket) -> list[Upload]:
    """The images in the request's multipart field ``files``, read by :func:`read_body`. A refusal closes the
    connection (the rest of the body is not read)."""
    with closing_on_refusal():
        boundary = _check_headers(request, settings)
        collector = _Collector(settings.max_files)
        try:
            parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
            await read_body(request, settings, ticket, parser.write)
            parser.finalize()
        except (MultipartParseError, ValueError) as err:
            raise RequestError(422, f"malformed multipart body ({first_line(err)})") from None
        if not collector.uploads:
            others = (
                f" (got fields: {', '.join(sorted(collector.other_fields))})"
                if collector.other_fields
                else ""
            )
            raise RequestError(
                422, f"no images: send one or more files in the multipart field '{FIELD}'{others}"
            )
        return collector.uploads


async def _within(request: Request, seconds: float) -> AsyncIterator[bytes]:
    """The body's chunks; ``asyncio.TimeoutError`` once ``seconds`` have passed since the first was awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    chunks = request.stream().__aiter__()
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise asyncio.TimeoutError
        try:
            yield await asyncio.wait_for(chunks.__anext__(), remaining)
        except StopAsyncIteration:
            return


def file_error(err: DataError, filename: str, index: int) -> RequestError:
    """The HTTP answer for one file the library refused."""
    status = 415 if isinstance(err, UnsupportedImage) else 413 if isinstance(err, ImageTooLarge) else 422
    return RequestError(status, str(err), filename=filename, index=index)


def probe_upload(data: bytes, filename: str, index: int, settings: ServiceSettings) -> Image.Image:
    """Open one upload's header (format allow-list, ``max_pixels``): cheap, nothing decoded yet."""
    label = filename or f"file {index}"
    if not data:
        raise RequestError(422, f"{label}: empty file", filename=filename, index=index)
    try:
        return open_image(io.BytesIO(data), label, settings.max_pixels)
    except DataError as err:
        message = str(err)
        if isinstance(err, ImageTooLarge) and "pixels" in message:
            message += " (max_pixels)"
        raise file_error(type(err)(message), filename, index) from None


def prepare_upload(prepare: Any, img: Image.Image, filename: str, index: int, budget: Any) -> torch.Tensor:
    """Decode a probed upload and preprocess it with the classifier's ``prepare`` (runs in a decode thread),
    holding its decoded pixels in the memory budget meanwhile."""
    label = filename or f"file {index}"
    need = image_bytes(img.width * img.height, img.mode)
    if not budget.reserve(need, decode=True):
        img.close()
        if need > budget.decode_limit:
            raise RequestError(
                413,
                f"{label}: decoding would take {_mb(need)}, more than the budget allows",
                filename=filename,
                index=index,
            )
        raise busy(f"decoding {label}")
    try:
        rgb = decode_rgb(img, label)
        return prepare(rgb)
    except (CorruptImage, UnsupportedImage, ImageTooLarge, DataError) as err:
        raise file_error(err, filename, index) from None
    finally:
        budget.release(need, decode=True)
