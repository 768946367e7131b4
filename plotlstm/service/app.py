"""The FastAPI app: ``/v1/classify``, ``/v1/model``, ``/healthz`` and the page at ``/``."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from plotlstm import __version__
from plotlstm.inference.classifier import PlotClassifier
from plotlstm.service.batcher import DynamicBatcher
from plotlstm.service.settings import ServiceSettings
from plotlstm.service.uploads import FIELD, FORMATS, RequestError, prepare_upload, read_uploads

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


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


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
        "400": {"description": "bad request headers"},
        "413": {"description": "upload, image or file count above a limit"},
        "415": {"description": "not multipart/form-data, or a file is not an image in a supported format"},
        "422": {"description": "no files, malformed multipart body, empty, truncated or corrupt image"},
    },
}


def create_app(classifier: PlotClassifier, settings: ServiceSettings | None = None) -> FastAPI:
    """The service around a loaded classifier (no socket: serve it with uvicorn, or test it with TestClient)."""
    settings = settings or ServiceSettings()
    identity = model_identity(classifier)
    batcher = DynamicBatcher(classifier.predict_batch, settings.max_batch_size, settings.max_wait_ms)
    decoders = ThreadPoolExecutor(max_workers=settings.decode_threads, thread_name_prefix="plotlstm-decode")
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    model_info = {
        **identity,
        "num_classes": len(classifier.classes),
        "parameters": sum(p.numel() for p in classifier.model.parameters()),
        "image_size": classifier.image_size,
        "device": str(classifier.device),
        "hparams": dict(classifier.model.hparams),
        "limits": settings.as_dict(),
        "formats": list(FORMATS),
        "version": __version__,
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        log.info("model %s (%s), classes %s", identity["checkpoint"], identity["sha256"], identity["classes"])
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="plotlstm",
        version=__version__,
        description="Classify regression 'Residuals vs Fitted' plots. See docs/service.md.",
        lifespan=lifespan,
    )
    app.state.classifier = classifier
    app.state.settings = settings
    app.state.batcher = batcher

    @app.exception_handler(RequestError)
    async def on_request_error(request: Request, err: RequestError) -> JSONResponse:
        return error_response(err.status, err.message, **err.extra)

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

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness: the model is loaded and the batcher runs."""
        return {
            "status": "ok" if batcher.running else "starting",
            "checkpoint": identity["checkpoint"],
            "queued": batcher.queued,
            "batches": batcher.batches,
            "images": batcher.images,
        }

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The loaded model: checkpoint, sha256, classes, parameter count, image size, hyper-parameters."""
        return model_info

    @app.post("/v1/classify", openapi_extra=CLASSIFY_OPENAPI)
    async def classify(request: Request) -> dict[str, Any]:
        """Classify one or several images sent as repeated multipart fields ``files``."""
        uploads = await read_uploads(request, settings)
        loop = asyncio.get_running_loop()
        batcher.expect(len(uploads))  # the batcher waits for these while they decode
        submitted = 0
        try:
            decoded = await asyncio.gather(
                *(
                    loop.run_in_executor(
                        decoders, prepare_upload, classifier.prepare, u.data, u.filename, i, settings
                    )
                    for i, u in enumerate(uploads)
                ),
                return_exceptions=True,
            )
            for outcome in decoded:
                if isinstance(outcome, BaseException):
                    raise outcome
            futures = [batcher.enqueue(image, expected=True) for image in decoded]
            submitted = len(futures)
            rows = await asyncio.gather(*futures)
        finally:
            batcher.cancel_expected(len(uploads) - submitted)
        results = [
            {"filename": upload.filename, **prediction}
            for upload, prediction in zip(uploads, to_results(classifier, rows, decoded), strict=True)
        ]
        return {"model": identity, "results": results}

    return app


def to_results(
    classifier: PlotClassifier, rows: list[Any], images: list[Any] | None = None
) -> list[dict[str, Any]]:
    """JSON per image: the class (``unrecognized`` for a non-plot), its probability, every class's probability."""
    if not rows:
        return []
    predictions = classifier.to_predictions(torch.stack(rows), [""] * len(rows), images)
    return [
        {"class": p.label, "confidence": p.confidence, "probabilities": p.probabilities} for p in predictions
    ]
