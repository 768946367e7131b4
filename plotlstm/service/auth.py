"""The optional shared token: ``Authorization: Bearer <token>`` on every route but the open ones."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from plotlstm.service.uploads import RequestError

OPEN_PATHS = frozenset({"/healthz", "/", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
"""Reachable without the token: liveness, the page's HTML, and the API docs (no model, no results)."""
OPEN_PREFIXES = ("/v1/examples",)
"""Also open: the example plots of each class for first-time visitors (drawn from a fixed seed; an ``<img>`` on
the page cannot send a header)."""

bearer = HTTPBearer(
    auto_error=False, description="the service's api_token (serve.yaml or PLOTLSTM_API_TOKEN)"
)


def token_dependency(token: str | None) -> Callable[..., Awaitable[None]]:
    """An app-wide FastAPI dependency: 401 unless the request carries ``token`` (a no-op when it is None).

    As a dependency (not a middleware) it appears in the OpenAPI schema, so /docs has an Authorize button.
    """

    async def check_token(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> None:
        path = request.url.path
        if token is None or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise RequestError(
                401,
                "missing or wrong token: send the header 'Authorization: Bearer <api_token>'",
                headers={"WWW-Authenticate": "Bearer", "Connection": "close"},  # the body is never read
            )

    return check_token
