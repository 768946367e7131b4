"""Run the app with uvicorn: in the foreground (the command) or in a background thread (tests, benchmarks).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) and bounds the header size
(``h11_max_incomplete_event_size``), but waits for ever for a request whose headers trickle in; the protocol
below adds that deadline (``header_timeout_s``). Body deadlines are the app's (``body_timeout_s``).
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from plotlstm.service.settings import ServiceSettings

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol that closes a connection whose request headers are not complete within
    ``header_timeout`` seconds of the connection (or of the previous response)."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_expired)

    def _cancel_header_timer(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
            self._header_timer = None

    def _headers_expired(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("closing a connection whose request headers did not arrive in time")
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def protocol_for(settings: ServiceSettings) -> type[H11Protocol]:
    return type(
        "HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": settings.header_timeout_s}
    )


def uvicorn_config(
    app: FastAPI, host: str, port: int, log_level: str = "info", settings: ServiceSettings | None = None
) -> uvicorn.Config:
    """One process, one event loop, one model copy: batching needs every request in the same process.

    Timeouts and header limits come from ``settings`` (default: the app's own)."""
    settings = settings or getattr(app.state, "settings", None) or ServiceSettings()
    options: dict[str, Any] = {
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": settings.max_header_kb * 1024,
        "http": protocol_for(settings),
    }
    return uvicorn.Config(
        app, host=host, port=port, workers=1, log_level=log_level, access_log=False, **options
    )


class BackgroundServer:
    """``with BackgroundServer(app) as server: httpx.get(server.url + "/healthz")`` on a free loopback port."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"):
        self.server = uvicorn.Server(uvicorn_config(app, host, port, log_level))
        self.thread = threading.Thread(target=self.server.run, name="plotlstm-uvicorn", daemon=True)
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
