"""The one progress bar of the library and the commands: Rich, on stderr (training has Lightning's Rich bar)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


class ProgressBar:
    """``bar = ProgressBar(n, "generate"); bar.update(k); bar.close()`` (or ``with``); nothing when disabled."""

    def __init__(self, total: int, description: str, enabled: bool = True) -> None:
        self._progress: Progress | None = None
        if enabled and total > 0:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            self._progress = Progress(*columns, console=Console(stderr=True))
            self._task = self._progress.add_task(description, total=total)
            self._progress.start()

    def update(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def track(items: Iterable[T], description: str, total: int, enabled: bool = True) -> Iterator[T]:
    """``items`` with a progress bar of ``total`` steps."""
    with ProgressBar(total, description, enabled) as bar:
        for item in items:
            yield item
            bar.update(1)
