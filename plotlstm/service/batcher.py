"""Dynamic batching: images from requests that arrive together go through the model as one batch."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import torch

PredictFn = Callable[[Sequence[torch.Tensor]], torch.Tensor]


class DynamicBatcher:
    """An asyncio queue and one worker task that feeds ``predict`` batches of up to ``max_batch_size`` images.

    The worker takes the first waiting image, then collects more until the batch is full or ``max_wait_ms``
    have passed since it started collecting. It only waits while more images are announced (see
    :meth:`expect`): a lone request is not delayed. ``predict`` runs in a dedicated thread, one batch at a
    time, so the event loop stays free to accept and decode the next requests meanwhile.
    """

    def __init__(self, predict: PredictFn, max_batch_size: int = 32, max_wait_ms: float = 5.0) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size: must be at least 1, got {max_batch_size}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms: must be >= 0, got {max_wait_ms}")
        self.predict = predict
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.batches = 0  # statistics, shown by /healthz
        self.images = 0
        self._expected = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[torch.Tensor, asyncio.Future[torch.Tensor]]] | None = None
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    @property
    def queued(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def start(self) -> None:
        """Start the worker on the running event loop (again, if the loop changed)."""
        loop = asyncio.get_running_loop()
        if self.running and self._loop is loop:
            return
        self._loop = loop
        self._queue = asyncio.Queue()
        self._arrived = asyncio.Event()
        self._expected = 0
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plotlstm-model")
        self._worker = loop.create_task(self._run(), name="plotlstm-batcher")

    async def stop(self) -> None:
        """Stop the worker; images still queued get a ``RuntimeError``."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(RuntimeError("the service is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def expect(self, n: int) -> None:
        """Announce ``n`` images that will be submitted soon (while they decode); the worker waits for them."""
        self.start()
        self._expected += n

    def cancel_expected(self, n: int) -> None:
        """Withdraw announced images that will not come (for example, their upload did not decode)."""
        self._expected = max(0, self._expected - n)
        self._wake()

    def enqueue(self, image: torch.Tensor, expected: bool = False) -> asyncio.Future[torch.Tensor]:
        """Queue one prepared image; the future gets its (K,) probabilities. ``expected``: announced before."""
        self.start()
        assert self._queue is not None
        future: asyncio.Future[torch.Tensor] = asyncio.get_running_loop().create_future()
        if expected:
            self._expected = max(0, self._expected - 1)
        self._queue.put_nowait((image, future))
        self._wake()
        return future

    async def submit(self, image: torch.Tensor, expected: bool = False) -> torch.Tensor:
        """The (K,) class probabilities of one prepared image."""
        return await self.enqueue(image, expected)

    def _wake(self) -> None:
        if self._arrived is not None:
            self._arrived.set()

    async def _collect(self) -> list[tuple[torch.Tensor, asyncio.Future[torch.Tensor]]]:
        assert self._queue is not None and self._arrived is not None
        batch = [await self._queue.get()]
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if self._expected <= 0 or remaining <= 0:
                break
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            batch = [(x, f) for x, f in batch if not f.done()]  # callers that went away
            if not batch:
                continue
            try:
                probs = await loop.run_in_executor(self._executor, self.predict, [x for x, _ in batch])
            except Exception as err:  # noqa: BLE001 - every waiting request gets the error, the worker lives on
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            self.batches += 1
            self.images += len(batch)
            for (_, future), row in zip(batch, probs, strict=True):
                if not future.done():
                    future.set_result(row)
