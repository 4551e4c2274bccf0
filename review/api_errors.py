"""How the review app answers errors: JSON for the API, an error page or a login redirect."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from review.api_context import ReviewContext


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    review: ReviewContext = request.app.state.review
    return review.render(
        "error.html",
        review.session(request),
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
        review.session(request),
        422,
        code=422,
        message="That request is not valid.",
    )


async def login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), 303)
