"""``python -m plotlstm.serve ckpt_path=...``: the plot classification service (FastAPI + uvicorn)."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket

import torch
import uvicorn
from fastapi import FastAPI
from omegaconf import DictConfig

from plotlstm.cli import command
from plotlstm.errors import PlotLSTMError, first_line
from plotlstm.inference.classifier import PlotClassifier, pick_device
from plotlstm.service import ServiceSettings, create_app
from plotlstm.service.server import LOG_LEVELS, uvicorn_config
from plotlstm.service.settings import TOKEN_ENV

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
    if isinstance(option, bool) or not isinstance(option, int) or option < 1:
        raise PlotLSTMError(f"torch_threads: must be a whole number >= 1 or auto, got {option!r}")
    return option


def is_loopback(host: str) -> bool:
    """True for addresses that only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_options(cfg: DictConfig) -> ServiceSettings:
    """Every option checked, in one line each, before the checkpoint is loaded or a port is taken."""
    level = cfg.get("log_level", "info")
    if not isinstance(level, str) or level.lower() not in LOG_LEVELS:
        raise PlotLSTMError(f"log_level: use one of {', '.join(LOG_LEVELS)}, got {level!r}")
    torch_threads(cfg.get("torch_threads", "auto"))
    pick_device(cfg.get("device", "auto"))
    settings = ServiceSettings.from_mapping(cfg)
    allow_anonymous = cfg.get("allow_anonymous", False)
    if not isinstance(allow_anonymous, bool):
        raise PlotLSTMError(f"allow_anonymous: must be true or false, got {allow_anonymous!r}")
    if not is_loopback(str(cfg.host)) and settings.api_token is None and not allow_anonymous:
        raise PlotLSTMError(
            f"host: {cfg.host} is reachable from other machines; set api_token=... (or {TOKEN_ENV}), "
            "or allow_anonymous=true to serve without authentication"
        )
    check_listen(cfg.host, cfg.port)
    return settings


def build_app(cfg: DictConfig) -> FastAPI:
    """Load the checkpoint once (weights only) and wrap it in the service."""
    settings = ServiceSettings.from_mapping(cfg)
    pick_device(cfg.get("device", "auto"))
    torch.set_num_threads(torch_threads(cfg.get("torch_threads", "auto")))
    try:
        classifier = PlotClassifier.load(
            cfg.get("ckpt_path"), device=cfg.get("device", "auto"), batch_size=settings.max_batch_size
        )
    except (RuntimeError, AssertionError) as err:  # an unknown or unavailable device
        raise PlotLSTMError(f"device: {cfg.get('device')!r} is not usable ({first_line(err)})") from None
    return create_app(classifier, settings)


def serve(cfg: DictConfig) -> None:
    settings = check_options(cfg)
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
    if settings.api_token is None and not is_loopback(str(cfg.host)):
        log.warning(
            "listening on %s without a token (allow_anonymous=true): anyone who reaches it may use it",
            cfg.host,
        )
    elif settings.api_token is not None:
        log.info("requests need the token (Authorization: Bearer ...); /healthz, / and /docs stay open")
    uvicorn.Server(
        uvicorn_config(app, cfg.host, cfg.port, str(cfg.get("log_level", "info")).lower(), settings)
    ).run()


@command("serve")
def main(cfg: DictConfig) -> None:
    serve(cfg)


if __name__ == "__main__":
    main()
