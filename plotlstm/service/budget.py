"""One memory budget for everything that requests hold in flight: upload bytes and decoded pixels."""

from __future__ import annotations

import threading
from typing import Any

SMALL_REQUEST = 1 << 20
"""A request holding at most this much is small: it may use the uploads' headroom, which large ones may not."""


class MemoryBudget:
    """Counts the bytes that requests hold. Uploads may use the budget less the share kept for decoding
    (so that images already received can always be decoded); decoding uses that share. Of the uploads' part, an
    eighth (``headroom``) is for small requests only, so that large ones cannot starve them. ``reserve`` never
    waits: past the budget the caller answers 503 and the client retries."""

    def __init__(self, limit_bytes: int, decode_reserve_bytes: int) -> None:
        self.limit = limit_bytes
        self.decode_limit = min(decode_reserve_bytes, limit_bytes)
        self.upload_limit = limit_bytes - self.decode_limit
        self.headroom = self.upload_limit // 8
        self.uploads = 0
        self.decoding = 0
        self.peak = 0
        self.refused = 0
        self._lock = threading.Lock()

    def reserve(self, n: int, decode: bool = False, large: bool = False) -> bool:
        """Take ``n`` bytes for an upload (or, ``decode``, for decoding) if they fit; False otherwise. The bytes of
        a ``large`` request must also leave the ``headroom`` free."""
        with self._lock:
            if decode:
                if self.decoding + n > self.decode_limit:
                    self.refused += 1
                    return False
                self.decoding += n
            else:
                if self.uploads + n > self.upload_limit - (self.headroom if large else 0):
                    self.refused += 1
                    return False
                self.uploads += n
            self.peak = max(self.peak, self.uploads + self.decoding)
            return True

    def release(self, n: int, decode: bool = False) -> None:
        with self._lock:
            if decode:
                self.decoding = max(0, self.decoding - n)
            else:
                self.uploads = max(0, self.uploads - n)

    def snapshot(self) -> dict[str, Any]:
        """For /healthz: MB in use now, the peak, the budget, and how many reservations were refused."""
        mb = 1024 * 1024
        with self._lock:
            return {
                "budget_mb": round(self.limit / mb, 1),
                "uploads_mb": round(self.uploads / mb, 1),
                "decoding_mb": round(self.decoding / mb, 1),
                "peak_mb": round(self.peak / mb, 1),
                "refused": self.refused,
            }


class Ticket:
    """The bytes one request holds in the budget; ``close`` gives them all back (idempotent)."""

    def __init__(self, budget: MemoryBudget) -> None:
        self.budget = budget
        self.held = 0

    def take(self, n: int) -> bool:
        if self.budget.reserve(n, large=self.held + n > SMALL_REQUEST):
            self.held += n
            return True
        return False

    def close(self) -> None:
        self.budget.release(self.held)
        self.held = 0
