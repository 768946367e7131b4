"""The FastAPI app: ``/v1/classify``, ``/v1/model``, ``/healthz``, the page at ``/``; ``/v1/check`` and the examples
in :mod:`plotlstm.service.check_route`."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import torch
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from plotlstm import __version__
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service.answers import to_results, uploaded_evidence
from plotlstm.service.auth import token_dependency
from plotlstm.service.batcher import DynamicBatcher
from plotlstm.service.budget import MemoryBudget, Ticket
from plotlstm.service.check_route import add_check_routes, add_example_routes
from plotlstm.service.decoding import FairDecoder, decode_uploads
from plotlstm.service.settings import ServiceSettings
from plotlstm.service.uploads import FIELD, FORMATS, RequestError, Upload, read_uploads

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def file_sha256(path: str | Path, length: int = 12) -> str | None:
    """The first ``length`` hex digits of a file's sha256 (None when there is no such file)."""
    path = Path(path)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:length]


def model_identity(classifier: PlotClassifier) -> dict[str, Any]:
    """What names the model in every answer: checkpoint file name, a short sha256 of it, the classes."""
    return {
        "checkpoint": Path(classifier.checkpoint).name if classifier.checkpoint else None,
        "sha256": file_sha256(classifier.checkpoint) if classifier.checkpoint else None,
        "classes": classifier.classes,
    }


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status, headers=headers)


# /v1/classify reads its multipart body itself (streamed, counted, in memory); this documents it in OpenAPI.
CLASSIFY_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": f"one or more plot images ({', '.join(FORMATS)})",
                        }
                    },
                }
            }
        },
    },
    "responses": {
        "200": {
            "description": "one result per file, in order: a classification, or (several files) that file's "
            "error and status"
        },
        "400": {"description": "bad request headers"},
        "401": {"description": "missing or wrong token (when the service has an api_token)"},
        "408": {"description": "the body did not arrive within body_timeout_s"},
        "413": {"description": "upload, image or file count above a limit"},
        "415": {"description": "not multipart/form-data, or (one file) not an image in a supported format"},
        "422": {"description": "no files, malformed multipart body, (one file) empty, truncated or corrupt"},
        "503": {"description": "the memory budget is full for now: retry after Retry-After seconds"},
    },
}


def create_app(classifier: PlotClassifier, settings: ServiceSettings | None = None) -> FastAPI:
    """The service around a loaded classifier (no socket: serve it with uvicorn, or test it with TestClient).

    The shared parts (classifier, settings, batcher, memory budget, decoder, the model's identity) live on
    ``app.state``; each route group reads them from there."""
    settings = settings or ServiceSettings()
    batcher = DynamicBatcher(classifier.predict_batch, settings.max_batch_size, settings.max_wait_ms)
    decoder = FairDecoder(settings.decode_threads, settings.large_image_pixels)
    identity = model_identity(classifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        decoder.start()
        log.info("model %s (%s), classes %s", identity["checkpoint"], identity["sha256"], identity["classes"])
        try:
            yield
        finally:
            await batcher.stop()
            decoder.shutdown()

    # Swagger UI's files come from the fastapi-offline package (no CDN); redoc is off.
    app = FastAPIOffline(
        title="plotlstm",
        version=__version__,
        description="Classify regression 'Residuals vs Fitted' plots. See docs/service.md.",
        lifespan=lifespan,
        redoc_url=None,
        dependencies=[Depends(token_dependency(settings.api_token))],
    )
    app.state.classifier = classifier
    app.state.settings = settings
    app.state.batcher = batcher
    app.state.budget = MemoryBudget(settings.memory_budget_bytes, settings.decode_reserve_bytes)
    app.state.decoder = decoder
    app.state.identity = identity
    add_error_handlers(app)
    add_info_routes(app)
    add_classify_routes(app)
    add_check_routes(app)
    add_example_routes(app)
    return app


def add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": "..."}`` with its status; an unexpected one is logged and answered 500."""

    @app.exception_handler(RequestError)
    async def on_request_error(request: Request, err: RequestError) -> JSONResponse:
        return error_response(err.status, err.message, err.headers, **err.extra)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        return error_response(err.status_code, str(err.detail))

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        return error_response(422, f"invalid request: {first.get('msg', 'validation failed')}")

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, f"internal error ({type(err).__name__}); the service goes on")


def add_info_routes(app: FastAPI) -> None:
    """``GET /`` (the page), ``/healthz`` and ``/v1/model``."""
    state = app.state
    classifier, settings = state.classifier, state.settings
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    model_info = {
        **state.identity,
        "num_classes": len(classifier.classes),
        "parameters": classifier.parameters,
        "image_size": classifier.image_size,
        "device": str(classifier.device),
        "hparams": dict(classifier.hparams),
        "limits": settings.as_dict(),
        "formats": list(FORMATS),
        "version": __version__,
    }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness: the model is loaded and the batcher runs."""
        batcher = state.batcher
        return {
            "status": "ok" if batcher.running else "starting",
            "checkpoint": state.identity["checkpoint"],
            "queued": batcher.queued,
            "batches": batcher.batches,
            "images": batcher.images,
            "decoding_queued": state.decoder.queued,
            "memory": state.budget.snapshot(),
        }

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The loaded model: checkpoint, sha256, classes, parameter count, image size, hyper-parameters."""
        return model_info


def add_classify_routes(app: FastAPI) -> None:
    """``POST /v1/classify``: uploaded images, decoded fairly and classified through the batcher."""
    state = app.state

    @app.post("/v1/classify", openapi_extra=CLASSIFY_OPENAPI)
    async def classify(request: Request) -> Any:
        """Classify one or several images sent as repeated multipart fields ``files``.

        Each file gets its own result: a bad file among several is answered with its error and status while
        the others are classified; a request of one bad file is answered with that file's status."""
        ticket = Ticket(state.budget)
        explain = request.query_params.get("explain", "").lower() in ("1", "true", "yes")
        try:
            uploads = await read_uploads(request, state.settings, ticket)
            outcomes = await classify_uploads(state, uploads, explain)
        finally:
            ticket.close()
        results: list[dict[str, Any]] = []
        for i, (upload, outcome) in enumerate(zip(uploads, outcomes, strict=True)):
            if isinstance(outcome, RequestError):
                if len(uploads) == 1:
                    raise outcome
                results.append(
                    {
                        "filename": upload.filename,
                        "index": i,
                        "error": outcome.message,
                        "status": outcome.status,
                    }
                )
            else:
                results.append({"filename": upload.filename, **outcome})
        return {"model": state.identity, "results": results}


async def classify_uploads(
    state: Any, uploads: list[Upload], explain: bool = False
) -> list[dict[str, Any] | RequestError]:
    """Each upload's answer (decoded fairly, then through the batcher) or its RequestError; with ``explain``, the
    evidence for its class over the image's columns (the model input's, left to right)."""
    classifier, batcher = state.classifier, state.batcher
    batcher.expect(len(uploads))  # the batcher waits for these while they decode
    submitted = 0
    try:
        outcomes = await decode_uploads(
            uploads, classifier.prepare, state.settings, state.decoder, state.budget
        )
        waiting = {
            i: batcher.enqueue(x, expected=True)
            for i, x in enumerate(outcomes)
            if not isinstance(x, RequestError)
        }
        submitted = len(waiting)
        rows = await asyncio.gather(*waiting.values())
    finally:
        batcher.cancel_expected(len(uploads) - submitted)
    images = [outcomes[i] for i in waiting]
    answers = to_results(classifier, list(rows), images)
    if explain and images:
        labels = [a["class"] if a["class"] in classifier.classes else None for a in answers]
        top = [classifier.classes[int(torch.argmax(r))] for r in rows]
        evidence = await asyncio.to_thread(
            classifier.explain, list(images), [c or t for c, t in zip(labels, top, strict=True)]
        )
        for answer, row, image in zip(answers, evidence, images, strict=True):
            answer |= uploaded_evidence(row, image)
    for i, prediction in zip(waiting, answers, strict=True):
        outcomes[i] = prediction
    return outcomes
