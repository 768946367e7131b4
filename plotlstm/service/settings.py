"""The service's limits, batching knobs, timeouts and access settings (``conf/serve.yaml`` fills them)."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from plotlstm.errors import PlotLSTMError

TOKEN_ENV = "PLOTLSTM_API_TOKEN"
"""The environment variable that gives the shared token when ``api_token`` is not set."""
SECRET_FIELDS = ("api_token",)


def _whole(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PlotLSTMError(f"{name}: must be a whole number >= {minimum}, got {value!r}")
    return value


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlotLSTMError(f"{name}: must be a number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise PlotLSTMError(f"{name}: must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ServiceSettings:
    """Batching, the limits on what one request may send, and what all requests together may hold."""

    max_batch_size: int = 32  # images per forward pass
    max_wait_ms: float = 20.0  # how long the batcher waits for more images once it has one
    max_upload_mb: float = 20.0  # the whole request body
    max_files: int = 32  # images in one request
    max_pixels: int = 16_000_000  # width x height of one image, checked before decoding it
    decode_threads: int = 2  # threads that decode and resize uploads
    large_image_pixels: int = 2_000_000  # images above this decode on at most decode_threads - 1 threads
    memory_budget_mb: float = 512.0  # uploads and decoded pixels in flight, all requests together
    header_timeout_s: float = 10.0  # a connection must send its request headers within this
    body_timeout_s: float = 60.0  # a request must send its whole body within this
    keep_alive_s: float = 5.0  # an idle keep-alive connection is closed after this
    max_header_kb: int = 32  # request line and headers together
    api_token: str | None = None  # the shared token that requests must send (None: no authentication)

    def __post_init__(self) -> None:
        for name in ("max_batch_size", "max_files", "max_pixels", "decode_threads", "large_image_pixels"):
            _whole(name, getattr(self, name))
        _whole("max_header_kb", self.max_header_kb)
        _positive("max_upload_mb", self.max_upload_mb)
        _positive("max_wait_ms", self.max_wait_ms, allow_zero=True)
        for name in ("memory_budget_mb", "header_timeout_s", "body_timeout_s", "keep_alive_s"):
            _positive(name, getattr(self, name))
        if self.api_token is not None and (not isinstance(self.api_token, str) or len(self.api_token) < 16):
            raise PlotLSTMError("api_token: must be a string of at least 16 characters (or unset)")
        need = (
            self.max_upload_bytes * 8 / 7 + self.decode_reserve_bytes
        )  # uploads keep an eighth for small ones
        if self.memory_budget_bytes < need:
            raise PlotLSTMError(
                f"memory_budget_mb: {self.memory_budget_mb:g} cannot hold one largest upload (max_upload_mb) "
                f"beside the small requests' share and decode_threads images of max_pixels at once; give at least "
                f"{math.ceil(need / 2**20)}"
            )

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def memory_budget_bytes(self) -> int:
        return int(self.memory_budget_mb * 1024 * 1024)

    @property
    def decode_reserve_bytes(self) -> int:
        """The share of the budget kept for decoding: decode_threads images of max_pixels in flight."""
        return self.decode_threads * image_bytes(self.max_pixels, "RGBA")

    @classmethod
    def from_mapping(cls, cfg: Any) -> ServiceSettings:
        """The settings found in a config mapping (other keys ignored); ``api_token`` falls back on
        the environment variable ``PLOTLSTM_API_TOKEN``."""
        values = {f.name: cfg[f.name] for f in fields(cls) if f.name in cfg and cfg[f.name] is not None}
        if "api_token" in values:
            values["api_token"] = str(values["api_token"])
        elif os.environ.get(TOKEN_ENV):
            values["api_token"] = os.environ[TOKEN_ENV]
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """The settings, without secrets (for /v1/model and logs)."""
        return {k: v for k, v in asdict(self).items() if k not in SECRET_FIELDS} | {
            "authentication": self.api_token is not None
        }


def image_bytes(pixels: int, mode: str) -> int:
    """Memory that decoding an image of ``pixels`` in ``mode`` and converting it to RGB takes (an estimate
    that errs high: the decoded image, the RGB copy and, for 16-bit and float images, a float64 array)."""
    per_pixel = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "RGB": 3, "YCbCr": 3, "CMYK": 4, "RGBA": 4}
    wide = mode in ("I", "F") or mode.startswith("I;16")
    return pixels * (per_pixel.get(mode, 4) + 3 + (16 if wide else 0))
