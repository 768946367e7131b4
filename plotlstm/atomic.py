"""Atomic file writes: a reader (or an interrupted run) sees the old file or the complete new one, never half."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield ``path.<pid>.tmp`` beside ``path``: it replaces ``path`` when the block succeeds, and is removed
    otherwise. The process id keeps concurrent writers of the same file (DDP ranks building one cache, two
    generate runs) off each other's temporary file; the last complete write wins."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """``data`` as indented JSON, atomically (nothing is written if it does not serialise)."""
    return write_text(path, json.dumps(data, indent=2) + "\n")
