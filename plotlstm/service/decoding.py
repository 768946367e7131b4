"""Decoding that a small request does not wait behind large ones for.

Jobs are queued per request and taken round-robin across requests, so a request with one image is served
after at most the decodes already running; and images above ``large_pixels`` run on at most
``threads - 1`` threads, so one thread stays free for small images.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any

from PIL import Image

from plotlstm.service.budget import MemoryBudget
from plotlstm.service.settings import ServiceSettings
from plotlstm.service.uploads import RequestError, Upload, prepare_upload, probe_upload


class FairDecoder:
    """A pool of ``threads`` threads fed round-robin from per-request queues (``submit(request, fn, pixels)``)."""

    def __init__(self, threads: int, large_pixels: int, name: str = "plotlstm-decode") -> None:
        self.threads = threads
        self.large_pixels = large_pixels
        self.max_large = max(1, threads - 1)
        self._queues: OrderedDict[object, deque[tuple[Future[Any], Callable[[], Any], bool]]] = OrderedDict()
        self._cond = threading.Condition()
        self.name = name
        self._running_large = 0
        self._closed = True
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        """Start the threads (again, after :meth:`shutdown`)."""
        with self._cond:
            if not self._closed:
                return
            self._closed = False
            self._workers = [
                threading.Thread(target=self._work, name=f"{self.name}-{i}", daemon=True)
                for i in range(self.threads)
            ]
        for worker in self._workers:
            worker.start()

    def submit(self, request: object, fn: Callable[[], Any], pixels: int = 0) -> Future[Any]:
        """Queue ``fn()`` for ``request``; the future gets its result or exception."""
        future: Future[Any] = Future()
        self.start()
        with self._cond:
            self._queues.setdefault(request, deque()).append((future, fn, pixels > self.large_pixels))
            self._cond.notify()
        return future

    @property
    def queued(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    def _next(self) -> tuple[Future[Any], Callable[[], Any], bool] | None:
        """The first runnable job in round-robin order (the request served moves to the back)."""
        for request, queue in self._queues.items():
            future, fn, large = queue[0]
            if large and self._running_large >= self.max_large:
                continue
            queue.popleft()
            if queue:
                self._queues.move_to_end(request)
            else:
                del self._queues[request]
            return future, fn, large
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = None
                while not self._closed and (job := self._next()) is None:
                    self._cond.wait()
                if job is None:
                    return
                future, fn, large = job
                self._running_large += large
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn())
                    except BaseException as err:  # noqa: BLE001 - handed to the waiting request
                        future.set_exception(err)
            finally:
                with self._cond:
                    self._running_large -= large
                    self._cond.notify_all()

    def shutdown(self) -> None:
        """Stop the threads once their running jobs end; queued jobs are cancelled."""
        with self._cond:
            self._closed = True
            for queue in self._queues.values():
                for future, _, _ in queue:
                    future.cancel()
            self._queues.clear()
            self._cond.notify_all()


async def decode_uploads(
    uploads: Sequence[Upload],
    prepare: Callable[[Image.Image], Any],
    settings: ServiceSettings,
    decoder: FairDecoder,
    budget: MemoryBudget,
) -> list[Any]:
    """Each upload decoded and passed through ``prepare`` (in the decoder's threads, this request's turn
    among the others), or the :class:`RequestError` that names it: per file, in order.

    Headers are read here (format allow-list, ``max_pixels``: cheap, nothing decoded); pixels are decoded in
    the threads while holding their bytes in ``budget``. Any route that reads images uses this."""
    outcomes: list[Any] = [None] * len(uploads)
    jobs: dict[int, asyncio.Future[Any]] = {}
    key = object()  # this request's queue in the decoder
    for i, upload in enumerate(uploads):
        try:
            img = probe_upload(upload.data, upload.filename, i, settings)
        except RequestError as err:
            outcomes[i] = err
            continue
        job = partial(prepare_upload, prepare, img, upload.filename, i, budget)
        jobs[i] = asyncio.wrap_future(decoder.submit(key, job, img.width * img.height))
    for i, result in zip(jobs, await asyncio.gather(*jobs.values(), return_exceptions=True), strict=True):
        if isinstance(result, BaseException) and not isinstance(result, RequestError):
            raise result
        outcomes[i] = result
    return outcomes
