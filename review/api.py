"""The analyst side of the reviewer database: a JSON API and server-rendered pages.

Contract (``create_app(settings)``; ``serve(settings)`` runs it with uvicorn):

    GET  /api/queue?object=&status=new&language=&limit=&after=   best tip per cluster, keyset pages
    GET  /api/tips/{tip_id}                    the whole tip, its cluster members and history
    POST /api/tips/{tip_id}/status             new → reviewing → lead | dismissed, audited
    GET  /api/objects/{object_ref}/consensus   what independent tipsters name for an object
    GET  /api/ops/throughput?minutes=60        tips per minute and channel, status counts
    GET  /api/openapi.json                     this API's description
    GET  /queue, /tips/{id}, /objects/{ref}, /ops   the same as pages (no JavaScript)
    GET  /media/{sha256}                       an image, only if some stored tip names it
    GET|POST /login, POST /logout              session for browsers
    GET  /healthz                              liveness; the only route without a login

Every other route needs an analyst: ``Authorization: Bearer <token>`` or the session cookie
the login form sets (``review.api_auth``). A browser's state-changing POST also needs the
session's CSRF token. Responses carry strict security headers and ``no-store``.

Tipster anonymity: the database holds no identity, and this app shows even the opaque sender
key only as a six-digit tag. Logs name analysts, tip ids and counts; never tip text or notes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import uvicorn
from fastapi import Depends, FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from psycopg_pool import AsyncConnectionPool
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.photos import MediaStore
from review import api_store
from review.api_auth import Analyst, Authenticator, csrf_ok
from review.api_models import (
    ApiError,
    Consensus,
    OpsSummary,
    QueuePage,
    StatusChangeIn,
    StatusChangeResult,
    TipDetail,
)
from review.api_queries import (
    CHANNELS,
    DEFAULT_PAGE,
    MAX_PAGE,
    STATUSES,
    TRANSITIONS,
    CursorError,
    QueueCursor,
    QueueFilter,
    Status,
    minute_table,
    safe_next,
)
from review.api_store import StatusConflictError, StatusRequest
from schemas.tip import Evidence, LanguageCode, ObjectRef, Sha256, TipId
from tipline.errors import ConfigurationError
from tipline.http import SecurityHeadersMiddleware
from tipline.settings import Settings

log = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
MAX_MINUTES: Final = 24 * 60
_TIP_ID: Final = TypeAdapter(TipId)
_OBJECT_REF: Final = TypeAdapter(ObjectRef)
_SHA256: Final = TypeAdapter(Sha256)
_LANGUAGE: Final = TypeAdapter(LanguageCode)

# Only our own stylesheet and (authorised) photos; no script at all; never indexed.
CSP: Final = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; script-src 'none'; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NO_INDEX: Final = ((b"x-robots-tag", b"noindex, nofollow"),)


class _LoginRequiredError(Exception):
    """A page was asked for without a session: answered with a redirect to the login form."""


# --- display filters for the templates -------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "–"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def _evidence(evidence: Evidence) -> str:
    parts = [
        f"{label}: {', '.join(str(v) for v in values)}"
        for label, values in (
            ("countries", evidence.countries),
            ("cities", evidence.cities),
            ("shops", evidence.shops),
            ("brands", evidence.brands),
            ("product ids", evidence.product_ids),
            ("years", evidence.years),
        )
        if values
    ]
    return "; ".join(parts) or "–"


_KIND_HEADINGS: Final = {
    "country": "Countries named",
    "city": "Cities named",
    "shop": "Shops named",
    "brand": "Brands named",
    "product_id": "Product ids named",
}


class _Review:
    """The handlers and what they share; ``create_app`` wires them to routes."""

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None:
            raise ConfigurationError("review app: TIPLINE_DATABASE_URL is not set")
        self.settings = settings
        self.url = settings.database_url.get_secret_value()
        self.auth = Authenticator(
            settings.review_tokens,
            settings.review_session_secret,
            settings.review_session_hours * 3600,
        )
        self.media_store = MediaStore(settings.web_media_dir or settings.data_dir / "media")
        # __Host- pins the cookie to this origin; browsers accept that prefix only with Secure.
        secure = settings.review_secure_cookies
        self.cookie = "__Host-tipline-review" if secure else "tipline-review"
        self.pool: AsyncConnectionPool[Any] | None = None
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )
        self.templates.filters["when"] = _when
        self.templates.filters["age"] = _age
        self.templates.filters["evidence"] = _evidence

    # --- plumbing ---

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        self.pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=8,
            open=False,
            # No server-side prepared statements: a cached generic plan ignores the values of
            # a filter and fell back to a sequential scan for the media probe (70 ms at 200k
            # tips instead of 0.2 ms). Planning each query costs well under a millisecond.
            kwargs={
                "autocommit": True,
                "application_name": "tipline-review",
                "prepare_threshold": None,
            },
        )
        await self.pool.open(wait=True, timeout=30)
        log.info("review app connected to the reviewer database")
        try:
            yield
        finally:
            await self.pool.close()

    def connection(self) -> Any:
        assert self.pool is not None, "the app's lifespan has not started"
        return self.pool.connection()

    def render(
        self,
        name: str,
        analyst: Analyst | None,
        status: int = 200,
        **ctx: Any,
    ) -> HTMLResponse:
        html = self.templates.get_template(name).render(analyst=analyst, **ctx)
        return HTMLResponse(html, status_code=status)

    def _bearer(self, request: Request) -> Analyst | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        name = self.auth.analyst_for_token(token)
        return Analyst(name=name) if name else None

    def _session(self, request: Request) -> Analyst | None:
        cookie = request.cookies.get(self.cookie)
        return self.auth.verify(cookie) if cookie else None

    # --- who is asking (wrapped as FastAPI dependencies below the class) ---

    def api_analyst(self, request: Request) -> Analyst:
        analyst = self._bearer(request) or self._session(request)
        if analyst is None:
            raise StarletteHTTPException(
                401, "missing or wrong access token", headers={"www-authenticate": "Bearer"}
            )
        # A browser session posting JSON must prove the request came from our own pages.
        if (
            request.method == "POST"
            and analyst.csrf is not None
            and not csrf_ok(analyst, request.headers.get("x-csrf-token"))
        ):
            raise StarletteHTTPException(403, "CSRF token missing or wrong")
        return analyst

    def page_analyst(self, request: Request) -> Analyst:
        analyst = self._session(request) or self._bearer(request)
        if analyst is None:
            raise _LoginRequiredError
        return analyst

    # --- error handling ---

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/api/") or request.url.path == "/healthz":
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        analyst = self._session(request)
        return self.render(
            "error.html", analyst, exc.status_code, code=exc.status_code, message=exc.detail
        )

    async def validation_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        # FastAPI's default echoes the input; a note or a query could carry case details.
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, 422)
        return self.render(
            "error.html",
            self._session(request),
            422,
            code=422,
            message="That request is not valid.",
        )

    async def login_required(self, request: Request, exc: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), 303)

    # --- health, login ---

    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    async def login_form(
        self, target: Annotated[str | None, Query(alias="next", max_length=2000)] = None
    ) -> HTMLResponse:
        return self.render("login.html", None, next=safe_next(target), failed=False)

    async def login(
        self,
        request: Request,
        token: Annotated[str, Form(max_length=512)],
        target: Annotated[str, Form(alias="next", max_length=2000)] = "/queue",
    ) -> Response:
        if not _same_origin(request):
            raise StarletteHTTPException(403, "This form was sent from another site.")
        name = self.auth.analyst_for_token(token)
        if name is None:
            log.info("review login refused: wrong token")
            return self.render("login.html", None, 401, next=safe_next(target), failed=True)
        cookie, _ = self.auth.issue(name)
        log.info("analyst %s logged in", name)
        response = RedirectResponse(safe_next(target), 303)
        response.set_cookie(
            self.cookie,
            cookie,
            max_age=int(self.settings.review_session_hours * 3600),
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.settings.review_secure_cookies,
        )
        return response

    async def logout(
        self,
        request: Request,
        analyst: Annotated[Analyst, Depends(_page_analyst)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        if not csrf_ok(analyst, csrf):
            raise StarletteHTTPException(403, "The form has expired; reload the page.")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(
            self.cookie, path="/", secure=self.settings.review_secure_cookies, httponly=True
        )
        log.info("analyst %s logged out", analyst.name)
        return response

    # --- JSON API ---

    async def api_queue(
        self,
        *,
        analyst: Annotated[Analyst, Depends(_api_analyst)],
        object_ref: Annotated[str | None, Query(alias="object", max_length=64)] = None,
        status: Status = "new",
        language: Annotated[str | None, Query(max_length=3)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        after: Annotated[str | None, Query(max_length=400)] = None,
    ) -> QueuePage:
        wanted = _queue_filter(object_ref, status, language, limit, after)
        async with self.connection() as conn:
            return await api_store.queue_page(conn, wanted)

    async def api_tip(
        self, tip_id: str, analyst: Annotated[Analyst, Depends(_api_analyst)]
    ) -> TipDetail:
        detail = await self._tip(tip_id)
        if detail is None:
            raise StarletteHTTPException(404, "no such tip")
        return detail

    async def api_status(
        self,
        tip_id: str,
        change: StatusChangeIn,
        analyst: Annotated[Analyst, Depends(_api_analyst)],
    ) -> StatusChangeResult:
        return await self._change(tip_id, analyst, change)

    async def api_consensus(
        self, object_ref: str, analyst: Annotated[Analyst, Depends(_api_analyst)]
    ) -> Consensus:
        _valid(_OBJECT_REF, object_ref, "no such object")
        async with self.connection() as conn:
            return await api_store.consensus(conn, object_ref)

    async def api_ops(
        self,
        analyst: Annotated[Analyst, Depends(_api_analyst)],
        minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = 60,
    ) -> OpsSummary:
        async with self.connection() as conn:
            return await api_store.ops_summary(conn, minutes)

    async def api_openapi(
        self, request: Request, analyst: Annotated[Analyst, Depends(_api_analyst)]
    ) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    # --- shared steps ---

    async def _tip(self, tip_id: str) -> TipDetail | None:
        try:
            _TIP_ID.validate_python(tip_id)
        except ValidationError:
            return None
        async with self.connection() as conn:
            return await api_store.tip_detail(conn, tip_id)

    async def _change(
        self, tip_id: str, analyst: Analyst, change: StatusChangeIn
    ) -> StatusChangeResult:
        _valid(_TIP_ID, tip_id, "no such tip")
        request = StatusRequest(
            tip_id=tip_id,
            status=change.status,
            analyst=analyst.name,
            note=change.note,
            cluster=change.cluster,
            expected=change.expected,
        )
        async with self.connection() as conn:
            try:
                result = await api_store.change_status(conn, request)
            except StatusConflictError as exc:
                raise StarletteHTTPException(409, str(exc)) from exc
        if result is None:
            raise StarletteHTTPException(404, "no such tip")
        log.info(
            "analyst %s moved %d tip(s) to %s (%s, %d skipped)",
            analyst.name,
            len(result.changed),
            result.status,
            tip_id,
            len(result.skipped),
        )
        return result

    # --- pages ---

    async def home(self, analyst: Annotated[Analyst, Depends(_page_analyst)]) -> Response:
        return RedirectResponse("/queue", 303)

    async def queue_page(
        self,
        *,
        request: Request,
        analyst: Annotated[Analyst, Depends(_page_analyst)],
        object_ref: Annotated[str | None, Query(alias="object", max_length=64)] = None,
        status: Status = "new",
        language: Annotated[str | None, Query(max_length=3)] = None,
        after: Annotated[str | None, Query(max_length=400)] = None,
    ) -> HTMLResponse:
        # An empty text box arrives as "": that means "any", not "the object called ''".
        wanted = _queue_filter(object_ref or None, status, language or None, DEFAULT_PAGE, after)
        async with self.connection() as conn:
            page = await api_store.queue_page(conn, wanted)
        filters = {"object": wanted.object_ref or "", "status": status}
        if wanted.language:
            filters["language"] = wanted.language
        next_link = f"/queue?{urlencode({**filters, 'after': page.next})}" if page.next else None
        return self.render(
            "queue.html",
            analyst,
            page=page,
            wanted=wanted,
            statuses=STATUSES,
            next_link=next_link,
            first_link=f"/queue?{urlencode(filters)}" if after else None,
        )

    async def tip_page(
        self,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(_page_analyst)],
        changed: Annotated[int | None, Query(ge=0)] = None,
    ) -> HTMLResponse:
        detail = await self._tip(tip_id)
        if detail is None:
            raise StarletteHTTPException(404, "There is no tip with this id.")
        return self.render(
            "tip.html",
            analyst,
            tip=detail,
            next_statuses=sorted(TRANSITIONS[detail.status], key=STATUSES.index),
            changed=changed,
        )

    async def tip_status_form(
        self,
        *,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(_page_analyst)],
        status: Annotated[Status, Form()],
        csrf: Annotated[str, Form(max_length=64)] = "",
        expected: Annotated[Status | None, Form()] = None,
        note: Annotated[str, Form(max_length=2000)] = "",
        cluster: Annotated[str, Form(max_length=8)] = "",
    ) -> Response:
        if not csrf_ok(analyst, csrf) or not _same_origin(request):
            raise StarletteHTTPException(403, "The form has expired; reload the page.")
        change = StatusChangeIn(
            status=status, note=note or None, cluster=cluster == "yes", expected=expected
        )
        result = await self._change(tip_id, analyst, change)
        return RedirectResponse(f"/tips/{tip_id}?changed={len(result.changed)}", 303)

    async def object_page(
        self, object_ref: str, analyst: Annotated[Analyst, Depends(_page_analyst)]
    ) -> HTMLResponse:
        _valid(_OBJECT_REF, object_ref, "There is no object with this id.")
        async with self.connection() as conn:
            found = await api_store.consensus(conn, object_ref)
        groups: dict[str, list[Any]] = {}
        for item in found.items:
            groups.setdefault(item.kind, []).append(item)
        return self.render(
            "object.html",
            analyst,
            consensus=found,
            groups=[(_KIND_HEADINGS.get(k, k), items) for k, items in groups.items()],
        )

    async def ops_page(
        self,
        analyst: Annotated[Analyst, Depends(_page_analyst)],
        minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = 60,
    ) -> HTMLResponse:
        async with self.connection() as conn:
            summary = await api_store.ops_summary(conn, minutes)
        table = minute_table(
            [r.model_dump() for r in summary.throughput], summary.now, summary.minutes
        )
        return self.render("ops.html", analyst, summary=summary, table=table, channels=CHANNELS)

    async def media(
        self, sha256: str, analyst: Annotated[Analyst, Depends(_page_analyst)]
    ) -> Response:
        _valid(_SHA256, sha256, "no such image")
        async with self.connection() as conn:
            media_type = await api_store.media_type_of(conn, sha256)
        # Only images some stored tip names: the media directory may hold others (rejected
        # tips, tests, a shared volume), and the database is what analysts are cleared to see.
        path = self.media_store.path_for(sha256)
        if media_type is None or not path.is_file():
            raise StarletteHTTPException(404, "no such image")
        return FileResponse(
            path,
            media_type=media_type,
            headers={"content-disposition": f'inline; filename="{sha256[:12]}"'},
        )


async def _api_analyst(request: Request) -> Analyst:
    review: _Review = request.app.state.review
    return review.api_analyst(request)


async def _page_analyst(request: Request) -> Analyst:
    review: _Review = request.app.state.review
    return review.page_analyst(request)


def _valid(adapter: TypeAdapter[Any], value: str, not_found: str) -> None:
    # An id that cannot exist is answered like one that does not: 404, no parser message.
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        raise StarletteHTTPException(404, not_found) from exc


def _queue_filter(
    object_ref: str | None,
    status: Status,
    language: str | None,
    limit: int,
    after: str | None,
) -> QueueFilter:
    try:
        if object_ref is not None:
            _OBJECT_REF.validate_python(object_ref)
        if language is not None:
            _LANGUAGE.validate_python(language)
    except ValidationError as exc:
        raise StarletteHTTPException(422, "object or language is not a valid id") from exc
    try:
        cursor = QueueCursor.decode(after) if after else None
    except CursorError as exc:
        raise StarletteHTTPException(400, "after: not a cursor from this queue") from exc
    return QueueFilter(
        status=status, object_ref=object_ref, language=language, limit=limit, after=cursor
    )


def _same_origin(request: Request) -> bool:
    """A browser's Origin, when sent, must be this site: a second guard beside the token."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


_ERRORS: Final[Mapping[int | str, dict[str, Any]]] = {
    401: {"model": ApiError, "description": "Missing or wrong access token."},
    404: {"model": ApiError, "description": "No such tip or object."},
    422: {"model": ApiError, "description": "Invalid parameters (the input is not echoed)."},
}


def create_app(settings: Settings) -> FastAPI:
    """The review app as an ASGI app; it opens its connection pool in its lifespan."""
    review = _Review(settings)
    app = FastAPI(
        title="tipline review",
        summary="The analysts' queue of scored tips, object consensus and pipeline throughput.",
        version="1",
        lifespan=review.lifespan,
        # Swagger/ReDoc load scripts from a CDN, and the description is for analysts only.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.review = review
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(StarletteHTTPException, review.http_error)
    app.add_exception_handler(RequestValidationError, review.validation_error)
    app.add_exception_handler(_LoginRequiredError, review.login_required)

    def api(path: str, endpoint: Any, method: str = "GET", **kwargs: Any) -> None:
        app.add_api_route(
            path,
            endpoint,
            methods=[method],
            tags=kwargs.pop("tags", ["review"]),
            responses={**_ERRORS, **kwargs.pop("responses", {})},
            openapi_extra={"security": [{"bearer": []}]},
            **kwargs,
        )

    def page(path: str, endpoint: Any, method: str = "GET") -> None:
        app.add_api_route(path, endpoint, methods=[method], include_in_schema=False)

    app.add_api_route(
        "/healthz", review.healthz, methods=["GET"], tags=["operations"], summary="Liveness"
    )
    api("/api/queue", review.api_queue, summary="The queue: the best open tip per cluster")
    api("/api/tips/{tip_id}", review.api_tip, summary="A tip with its cluster and history")
    api(
        "/api/tips/{tip_id}/status",
        review.api_status,
        "POST",
        summary="Change a tip's (or its cluster's) status; audited",
        responses={409: {"model": ApiError, "description": "Moved meanwhile, or not allowed."}},
    )
    api(
        "/api/objects/{object_ref}/consensus",
        review.api_consensus,
        summary="What independent tipsters name for an object",
    )
    api(
        "/api/ops/throughput",
        review.api_ops,
        tags=["operations"],
        summary="Tips per minute and channel, counts by status, oldest unreviewed tip",
    )
    app.add_api_route(
        "/api/openapi.json", review.api_openapi, methods=["GET"], include_in_schema=False
    )
    page("/", review.home)
    page("/login", review.login_form)
    page("/login", review.login, "POST")
    page("/logout", review.logout, "POST")
    page("/queue", review.queue_page)
    page("/tips/{tip_id}", review.tip_page)
    page("/tips/{tip_id}/status", review.tip_status_form, "POST")
    page("/objects/{object_ref}", review.object_page)
    page("/ops", review.ops_page)
    page("/media/{sha256}", review.media)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The analyst's access token.",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        SecurityHeadersMiddleware, csp=CSP, extra=NO_INDEX, hsts=settings.review_secure_cookies
    )
    return app


def serve(settings: Settings) -> None:
    """Run the review app with uvicorn until interrupted: no access log, no server header."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.review_host,
        port=settings.review_port,
        # Access logs would record which analyst read which tip, outside the audit: off.
        access_log=False,
        server_header=False,
        log_config=None,
    )
    uvicorn.Server(config).run()


__all__ = ["create_app", "serve"]
