"""The service's limits and batching knobs (``conf/serve.yaml`` fills them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from plotlstm.errors import PlotLSTMError


@dataclass(frozen=True)
class ServiceSettings:
    """Batching and the limits on what one request may send."""

    max_batch_size: int = 32  # images per forward pass
    max_wait_ms: float = 20.0  # how long the batcher waits for more images once it has one
    max_upload_mb: float = 20.0  # the whole request body
    max_files: int = 32  # images in one request
    max_pixels: int = 16_000_000  # width x height of one image, checked before decoding it
    decode_threads: int = 2  # threads that decode and resize uploads

    def __post_init__(self) -> None:
        for name in ("max_batch_size", "max_files", "max_pixels", "decode_threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise PlotLSTMError(f"{name}: must be a whole number >= 1, got {value!r}")
        if not self.max_upload_mb > 0:
            raise PlotLSTMError(f"max_upload_mb: must be > 0, got {self.max_upload_mb!r}")
        if not self.max_wait_ms >= 0:
            raise PlotLSTMError(f"max_wait_ms: must be >= 0, got {self.max_wait_ms!r}")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @classmethod
    def from_mapping(cls, cfg: Any) -> ServiceSettings:
        """The settings found in a config mapping (other keys are ignored)."""
        return cls(**{f.name: cfg[f.name] for f in fields(cls) if f.name in cfg and cfg[f.name] is not None})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
