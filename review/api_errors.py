"""How the review app answers errors: JSON for the API, an error page or a login redirect."""

from __future__ import annotations

import logging
import math
from typing import Final
from urllib.parse import urlencode

import psycopg
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from review.api_context import ReviewContext, ThrottledError, asked_by

log = logging.getLogger(__name__)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    review: ReviewContext = request.app.state.review
    return review.render(
        "error.html",
        await asked_by(request),
        exc.status_code,
        code=exc.status_code,
        message=exc.detail,
    )


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # FastAPI's default echoes the input; a note or a query could carry case details.
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail}, 422)
    review: ReviewContext = request.app.state.review
    return review.render(
        "error.html",
        await asked_by(request),
        422,
        code=422,
        message="That request is not valid.",
    )


async def login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), 303)


# A stopped database raises OperationalError (AdminShutdown, connection refused); a pool that
# cannot hand out a connection within the timeout raises PoolTimeout.
DATABASE_DOWN: Final = (psycopg.OperationalError, PoolTimeout)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("answered 503: the reviewer database is unavailable (%s)", type(exc).__name__)
    message = "The reviewer database is unavailable; try again shortly."
    headers = {"retry-after": "10"}
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return JSONResponse({"detail": message}, 503, headers=headers)
    review: ReviewContext = request.app.state.review
    response = review.render("error.html", await asked_by(request), 503, code=503, message=message)
    response.headers.update(headers)
    return response


async def throttled(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ThrottledError)
    wait = max(1, math.ceil(exc.wait))
    message = f"Too many failed sign-ins or wrong tokens: try again in {wait} s."
    headers = {"retry-after": str(wait)}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, 429, headers=headers)
    review: ReviewContext = request.app.state.review
    response = review.render("error.html", None, 429, code=429, message=message)
    response.headers.update(headers)
    return response
