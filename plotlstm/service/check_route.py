"""``POST /v1/check`` (a fit's two columns as JSON, drawn and classified) and the example plot of every class.

Kept apart from :mod:`plotlstm.service.app`, which only calls :func:`add_check_routes` and
:func:`add_example_routes`: the JSON body is read within ``max_upload_mb`` and at most ``max_files`` fits are taken;
drawing runs on the fair decoder and the images join the same dynamic batcher as ``/v1/classify``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

import torch
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from plotlstm.errors import PlotLSTMError
from plotlstm.inference.check import NULL_PLOTS, CheckResult, FitData, checked_options, locate
from plotlstm.inference.check import prepare as prepare_check
from plotlstm.inference.nulls import NOT_VIOLATIONS, null_test
from plotlstm.service.answers import to_results as results_of
from plotlstm.service.budget import Ticket
from plotlstm.service.settings import ServiceSettings
from plotlstm.service.uploads import RequestError, check_length, closing_on_refusal, read_body, take
from plotlstm.synth.style import R_STYLE

PARSED_PER_BYTE = 5
"""What parsing costs per byte of JSON: a number of about 10 characters becomes a float and a list slot (32 B);
measured 4.3 B a byte (RSS) on a 16.6 MB body of 800,000 points."""
BYTES_PER_POINT = 600
"""What a fit's point costs while it is checked, beyond its JSON: its arrays, and the drawing of the plot and its
null plots, a data set a drawing thread at a time; measured 541 B a point (peak RSS) for 800,000 points with 19 null
plots on 2 threads (``benchmarks/service_abuse.py`` keeps the server's RSS to the budget with it)."""
MAX_NULL_PLOTS = 99
"""The most null plots one fit of a request may ask for (each is a plot to draw and classify)."""
EXAMPLE_SEED = 2024
"""The simulation seed of the example plots (plot 0 of each class); fixed, so a page shows the same examples."""
EXAMPLES: dict[str, tuple[str, str]] = {
    "none": (
        "Healthy: the points scatter evenly around zero with no pattern.",
        "Nothing to fix; the linear model's assumptions look fine.",
    ),
    "biased": (
        "Skewed errors: the residuals stretch much further on one side of zero than on the other.",
        "Tests and intervals that assume normal errors are off: transform the response (log, Box-Cox) "
        "or fit a model for skewed data (a GLM with a log link).",
    ),
    "outlier": (
        "Gross outliers: a few points lie far away from all the others.",
        "Check those rows for mistakes; if they are real, use robust regression or report the fit with and "
        "without them.",
    ),
    "ceiling": (
        "A capped response: the residuals stop at a falling diagonal edge because y cannot exceed a limit.",
        "Least squares is biased there: use a model for censored data (Tobit) or one that respects the bound.",
    ),
    "heteroskedastic": (
        "A changing spread: the residuals fan out (or in) along the fitted values, or pinch like a bow tie.",
        "Standard errors are wrong: use robust (HC) standard errors, weighted least squares, or model the "
        "variance (a log or square-root response, a GLM).",
    ),
    "nonlinear": (
        "A missing curve: the residuals bend (a U, an arch, an S) instead of scattering flat around zero.",
        "The mean is misspecified: add the missing term (a square, a spline, an interaction) or transform.",
    ),
}

CHECK_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "fitted": {"type": "array", "items": {"type": "number"}},
                        "residuals": {"type": "array", "items": {"type": "number"}},
                        "name": {"type": "string"},
                        "fits": {
                            "type": "array",
                            "description": "several fits: objects with fitted, residuals and optionally name",
                            "items": {"type": "object"},
                        },
                        "drop_nonfinite": {"type": "boolean", "description": "drop rows with null/NaN/inf"},
                        "plot": {"type": "boolean", "description": "answer each plot too, as a PNG data URL"},
                        "null_plots": {
                            "type": "integer",
                            "description": "null plots per fit for the test (default 19, at most 99; 0: picture only)",
                        },
                        "alpha": {
                            "type": "number",
                            "description": "a violation when p <= alpha (default 0.05)",
                        },
                        "seed": {"type": "integer", "description": "seed of the null plots (default 0)"},
                    },
                }
            }
        },
    },
    "responses": {
        "413": {"description": "body or number of fits above a limit"},
        "415": {"description": "not application/json"},
        "422": {"description": "malformed JSON, or the one fit sent cannot be checked"},
    },
}


async def read_json(request: Request, settings: ServiceSettings, ticket: Ticket) -> Any:
    """The request's JSON body, read as every body is (:func:`read_body`: ``max_upload_mb``, the memory budget,
    ``body_timeout_s``; a refusal closes the connection)."""
    with closing_on_refusal():
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestError(
                415, f"send the fits as application/json (got content type {content_type or 'none'})"
            )
        check_length(request, settings)
        chunks: list[bytes] = []
        await read_body(request, settings, ticket, chunks.append)
        size = sum(map(len, chunks))
        take(ticket, PARSED_PER_BYTE * size, "this request")  # the parsed numbers cost more than their text
    try:
        return json.loads(b"".join(chunks))  # NaN and Infinity are read as floats, null as None
    except (
        ValueError,
        UnicodeDecodeError,
    ) as err:  # an integer of more than 4,300 digits is a ValueError too
        raise RequestError(422, f"malformed JSON ({' '.join(str(err).split())})") from None
    except RecursionError:
        raise RequestError(422, "malformed JSON (nested too deeply)") from None


def fits_of(payload: Any, max_fits: int) -> tuple[list[tuple[str, Any]], bool]:
    """The named fits of a request body, and whether it was a batch (``fits``) rather than one fit."""
    if not isinstance(payload, dict):
        raise RequestError(
            422, 'expected a JSON object: {"fitted": [...], "residuals": [...]} or {"fits": [...]}'
        )
    if "fits" in payload:
        fits = payload["fits"]
        if not isinstance(fits, list) or not fits:
            raise RequestError(422, "fits: expected a non-empty list of {fitted, residuals} objects")
        if len(fits) > max_fits:
            raise RequestError(
                413, f"too many fits: at most {max_fits} per request (max_files)", max_files=max_fits
            )
        named = [
            (str(f.get("name") or f"fit {i + 1}") if isinstance(f, dict) else f"fit {i + 1}", f)
            for i, f in enumerate(fits)
        ]
        return named, True
    return [(str(payload.get("name") or "fit"), payload)], False


def _nulls_to_nan(values: Any) -> Any:
    """JSON has no NaN: ``null`` in a column stands for a missing value."""
    return [float("nan") if v is None else v for v in values] if isinstance(values, list) else values


def test_options(payload: dict[str, Any]) -> tuple[int, float, int]:
    """``null_plots`` (default 19, at most :data:`MAX_NULL_PLOTS`), ``alpha`` and ``seed`` of a request."""
    null_plots, alpha, seed = (
        payload.get("null_plots", NULL_PLOTS),
        payload.get("alpha", 0.05),
        payload.get("seed", 0),
    )
    if isinstance(null_plots, int) and not isinstance(null_plots, bool) and null_plots > MAX_NULL_PLOTS:
        raise RequestError(422, f"null_plots: at most {MAX_NULL_PLOTS} here, got {null_plots}")
    try:
        checked_options(null_plots, alpha, seed)
    except PlotLSTMError as err:
        raise RequestError(422, str(err)) from None
    return null_plots, alpha, seed


def prepare_fit(
    fit: Any, drop_nonfinite: bool, prepare: Callable[[Any], torch.Tensor], null_plots: int = 0, seed: int = 0
) -> tuple[FitData, list[torch.Tensor], Any, str, str]:
    """Validate one fit's columns, draw its plot and its null plots (on the design [1, fitted]) and turn them into
    model input (runs on a decode thread): the data, the tensors (the real plot first), the plot, the null plots'
    design in words and a note (why there are none)."""
    if not isinstance(fit, dict):
        raise RequestError(422, 'a fit is an object with the lists "fitted" and "residuals"')
    missing = [key for key in ("fitted", "residuals") if key not in fit]
    if missing:
        raise RequestError(
            422, f'{" and ".join(missing)}: missing; a fit has the lists "fitted" and "residuals"'
        )
    for key in ("fitted", "residuals"):
        if not isinstance(fit[key], list):
            raise RequestError(422, f"{key}: expected a list of numbers")
    columns = {key: _nulls_to_nan(fit[key]) for key in ("fitted", "residuals")}
    pending = prepare_check(
        None, None, drop_nonfinite, null_plots=null_plots, seed=seed, convert=prepare, **columns
    )
    tensors = [
        prepare(pending.image),
        *pending.null_images,
    ]  # each null plot became model input as it was drawn
    design = pending.nulls.design if pending.nulls else ""
    return pending.data, tensors, pending.image, design, pending.note


def where(classifier: Any, data: FitData, image: Any, label: str) -> CheckResult:
    """``where`` and ``rows`` of a fit whose verdict is the violation ``label`` (as the library's ``check``)."""
    result = CheckResult("fit", label, image=image, fitted=data.fitted, residuals=data.residuals)
    return locate([result], classifier, R_STYLE)[0]


def verdict(
    classes: list[str], image_class: str, probs: list[torch.Tensor], alpha: float, design: str, note: str
) -> dict[str, Any]:
    """The null-plot test's part of an answer (``probs``: the real plot's probabilities, then its null plots'):
    the verdict ``class``, ``p_value``, ``evidence`` per class and the ``summary`` in words."""
    base = {
        "image_class": image_class,
        "null_plots": 0,
        "p_value": None,
        "evidence": {},
        "design": "",
        "note": note,
    }
    if len(probs) < 2 or "none" not in classes:
        return base | {"summary": f"{image_class} (picture only)"}
    table = torch.stack(probs).float().numpy()
    test = null_test(table[0], table[1:], classes, alpha)
    words = "no evidence of a violation" if test.label == "none" else test.label
    return base | {
        "class": test.label,
        "p_value": test.p_value,
        "null_plots": test.null_plots,
        "evidence": test.evidence,
        "design": design,
        "summary": f"{words} (p = {test.p_value:.3g}, {test.null_plots} null plots)",
    }


def _png_data_url(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@lru_cache(maxsize=8)
def example_png(cls: str) -> bytes:
    """The example plot of a class: plot 0 of :data:`EXAMPLE_SEED`, drawn by the generator's simulation."""
    from plotlstm.synth.render import render
    from plotlstm.synth.simulate import plot_rng, simulate

    sim = simulate(cls, plot_rng(EXAMPLE_SEED, cls, 0))
    buffer = io.BytesIO()
    render(sim.fitted, sim.residuals).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def add_check_routes(app: FastAPI) -> None:
    """Register ``POST /v1/check`` (the shared parts from ``app.state``)."""
    state = app.state
    classifier, settings, batcher, decoder = state.classifier, state.settings, state.batcher, state.decoder
    classes, prepare, identity = classifier.classes, classifier.prepare, state.identity

    def to_results(rows: list[torch.Tensor]) -> list[dict[str, Any]]:
        return results_of(classifier, rows)

    @app.post("/v1/check", openapi_extra=CHECK_OPENAPI)
    async def check_fits(request: Request) -> dict[str, Any]:
        """Draw each fit's Residuals-vs-Fitted plot (the R look) and classify it, as ``/v1/classify`` does."""
        ticket = Ticket(state.budget)
        try:
            return await answer(request, ticket)
        finally:
            ticket.close()

    async def answer(request: Request, ticket: Ticket) -> dict[str, Any]:
        payload = await read_json(request, settings, ticket)
        fits, batch = fits_of(payload, settings.max_files)
        drop = bool(payload.get("drop_nonfinite", False))
        null_plots, alpha, seed = test_options(payload)
        points = sum(
            len(f.get("fitted") or [])
            for _, f in fits
            if isinstance(f, dict) and isinstance(f.get("fitted"), list)
        )
        plots = len(fits) * (null_plots + 1) * 3 * classifier.image_size**2  # kept as model input, uint8
        take(ticket, points * BYTES_PER_POINT + plots, "checking these fits")  # the columns and the drawing
        outcomes = await asyncio.gather(
            *(
                asyncio.wrap_future(
                    decoder.submit(request, partial(prepare_fit, fit, drop, prepare, null_plots, seed))
                )
                for _, fit in fits
            ),
            return_exceptions=True,
        )
        answers: list[dict[str, Any] | None] = [None] * len(fits)
        ready = []
        for i, ((name, _), outcome) in enumerate(zip(fits, outcomes, strict=True)):
            if isinstance(outcome, (PlotLSTMError, RequestError)):
                message = outcome.message if isinstance(outcome, RequestError) else str(outcome)
                if not batch:
                    raise RequestError(422, message)
                answers[i] = {"name": name, "error": f"{name}: {message}"}
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                ready.append((i, outcome))
        rows = await asyncio.gather(*(batcher.enqueue(t) for _, (_, tensors, *_) in ready for t in tensors))
        at = 0
        for i, (data, tensors, image, design, note) in ready:
            probs = list(rows[at : at + len(tensors)])
            at += len(tensors)
            result = to_results(probs[:1])[0]
            answer = {"name": fits[i][0], "n": len(data.fitted), "dropped": data.dropped, **result}
            answer |= verdict(classes, result["class"], probs, alpha, design, note)
            answer["confidence"] = answer["probabilities"].get(answer["class"], answer["confidence"])
            if answer["class"] in classes and answer["class"] not in NOT_VIOLATIONS:
                located = await asyncio.to_thread(
                    where, request.app.state.classifier, data, image, answer["class"]
                )
                answer |= {
                    "where": [w.as_dict() for w in located.where],
                    "rows": located.rows,
                    "x_axis": located.x_axis,
                }
            if payload.get("plot"):
                answer["plot"] = _png_data_url(image)
            answers[i] = answer
        return {"model": identity, "results": answers}


def add_example_routes(app: FastAPI) -> None:
    """Register ``GET /v1/examples`` and ``GET /v1/examples/{class}.png`` (the page's "what the verdicts mean")."""
    classes, decoder = app.state.classifier.classes, app.state.decoder

    @app.get("/v1/examples")
    async def examples() -> dict[str, Any]:
        """One example plot per class the model knows, with what it means and what to do about it."""
        return {
            "examples": [
                {
                    "class": c,
                    "meaning": EXAMPLES[c][0],
                    "action": EXAMPLES[c][1],
                    "image": f"v1/examples/{c}.png",
                }
                for c in EXAMPLES  # healthy first
                if c in classes
            ]
        }

    @app.get("/v1/examples/{cls}.png", response_class=Response)
    async def example_image(cls: str) -> Response:
        """The example plot of a class (drawn once from a fixed seed, then kept)."""
        if cls not in EXAMPLES or cls not in classes:
            raise StarletteHTTPException(404, f"no example for class {cls!r}")
        png = await asyncio.wrap_future(decoder.submit(cls, partial(example_png, cls)))
        return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
