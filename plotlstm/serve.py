"""``python -m plotlstm.serve ckpt_path=...``: the plot classification service (FastAPI + uvicorn)."""

from __future__ import annotations

import logging
import os
import socket

import torch
import uvicorn
from fastapi import FastAPI
from omegaconf import DictConfig

from plotlstm.cli import command
from plotlstm.errors import PlotLSTMError
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service import ServiceSettings, create_app
from plotlstm.service.server import uvicorn_config

log = logging.getLogger(__name__)


def check_listen(host: str, port: int) -> None:
    """Fail early, in one line, when ``host:port`` cannot be listened on (address in use, no such address)."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise PlotLSTMError(f"port: must be a whole number in 0..65535, got {port!r}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as err:
        raise PlotLSTMError(f"host/port: cannot listen on {host}:{port} ({err.strerror or err})") from None


def torch_threads(option: int | str | None) -> int:
    """``auto``: one model thread on a machine of 2 cores or fewer (measured faster there: the decode threads and
    the event loop need the other core), else torch's default; a number is taken as given."""
    if option in (None, "auto"):
        return 1 if (os.cpu_count() or 1) <= 2 else torch.get_num_threads()
    if int(option) < 1:
        raise PlotLSTMError(f"torch_threads: must be a positive number or auto, got {option!r}")
    return int(option)


def build_app(cfg: DictConfig) -> FastAPI:
    """Load the checkpoint once (weights only) and wrap it in the service."""
    settings = ServiceSettings.from_mapping(cfg)
    torch.set_num_threads(torch_threads(cfg.get("torch_threads", "auto")))
    try:
        classifier = PlotClassifier.load(
            cfg.get("ckpt_path"), device=cfg.get("device", "auto"), batch_size=settings.max_batch_size
        )
    except (RuntimeError, AssertionError) as err:  # an unknown or unavailable device
        raise PlotLSTMError(
            f"device: {cfg.get('device')!r} is not usable ({str(err).splitlines()[0]})"
        ) from None
    return create_app(classifier, settings)


def serve(cfg: DictConfig) -> None:
    check_listen(cfg.host, cfg.port)
    app = build_app(cfg)
    model = app.state.classifier
    log.info(
        "plotlstm service: %s on %s, classes %s, http://%s:%s/ (API docs at /docs)",
        model.checkpoint,
        model.device,
        model.classes,
        cfg.host,
        cfg.port,
    )
    if cfg.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("listening on %s: anyone who can reach this port can use the service", cfg.host)
    uvicorn.Server(uvicorn_config(app, cfg.host, cfg.port, cfg.get("log_level", "info"))).run()


@command("serve")
def main(cfg: DictConfig) -> None:
    serve(cfg)


if __name__ == "__main__":
    main()
