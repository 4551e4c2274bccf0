"""Web intake: the public tip form per published object, the partner JSON API, and health.

Contract (``create_app(settings, sink, media)``):

    GET  /objects/{object_ref}        the object's page with a tip form (6 languages, no JS)
    GET  /objects/{object_ref}/picture  the object's sanitised picture
    POST /objects/{object_ref}/tips   the form's target; answers with a receipt (tip reference
                                      and, with a database, a follow-up code)
    GET|POST /followup, POST /followup/answer   a tipster with a code reads and answers questions
    POST /api/tips                    JSON for partner sites and apps; per-partner API key
    GET  /healthz                     liveness
    GET  /openapi.json                the API description (no Swagger page: it loads a CDN)

A tip is acknowledged (receipt page, 202) only after ``await sink.submit_async(raw)`` returned,
i.e. after the broker acknowledged it with acks=all. A ``TransientError`` answers 503 with
``Retry-After``: the tip was not accepted and the sender is told so.

Privacy: the client address is used only as a rate-limit key (``ingest.ratelimit``: a keyed
hash under a per-process random key, in memory, expiring). It is never put in the RawTip,
never logged, and uvicorn runs without its access log. Responses never echo the tip: a
receipt carries the reference only. Contact details go to ``channel_meta`` and only when the
tipster ticked the consent box. Photos go through ``ingest.photos`` and only the sanitised
re-encoding is stored. Pages load nothing from elsewhere, set one cookie (the CSRF token) and
are sent with a strict Content-Security-Policy.

This module wires the app; the parts live beside it:

    web_form.py       the object page, its form and the HTML error pages
    web_api.py        the partner API: ApiTip, ApiReceipt, keys, the handler
    web_catalogue.py  the published objects the pages show (a JSON file)
    catalogue_db.py   ... or the ``objects`` table, read-only and cached
    followup*.py      follow-up receipts and the page that reads and answers questions
    web_limits.py     body-size and rate limits
    web_handoff.py    photo sanitising and the hand-over to the broker, shared by form and API

They only translate HTTP into ``RawTip``: no cleaning, no scoring.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.catalogue_db import DatabaseCatalogue, IngestDatabase
from ingest.followup_pages import FollowUpPages
from ingest.photos import MediaStore
from ingest.producer import TipSink
from ingest.tip_ids import TipIds
from ingest.web_api import API_RESPONSES, ApiReceipt, ApiTip, PartnerApi
from ingest.web_catalogue import ObjectCatalogue
from ingest.web_form import FormPages, new_tip_id, page_lang
from ingest.web_handoff import Handoff
from ingest.web_limits import API_BODY_LIMIT, FORM_BODY_LIMIT, BodyLimitMiddleware, RateLimits
from ingest.webhook import create_router
from tipline.core.http import SecurityHeadersMiddleware, document_bearer_auth
from tipline.core.security import database_conninfo
from tipline.core.settings import Settings

STATIC_DIR: Final = Path(__file__).parent / "static"

# Pages load nothing from elsewhere and run no script.
CSP: Final = (
    b"default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    b"form-action 'self'; frame-ancestors 'none'"
)


def create_app(
    settings: Settings,
    sink: TipSink,
    media: MediaStore,
    *,
    catalogue: ObjectCatalogue | None = None,
) -> FastAPI:
    """The web intake as an ASGI app. ``catalogue`` overrides ``settings.web_catalogue``.

    With a database (``settings.database_url``), objects come from its ``objects`` table unless
    a catalogue file is set, and receipts carry a follow-up code that ``/followup`` reads back.
    """
    db = IngestDatabase(database_conninfo(settings)) if settings.database_url is not None else None
    if catalogue is None:
        if settings.web_catalogue is None and db is not None:
            catalogue = DatabaseCatalogue(db, ttl=settings.web_catalogue_ttl)
        else:
            catalogue = ObjectCatalogue.load(settings.web_catalogue)
    # One set of limits for form and API, so the global rate limit covers both.
    limits = RateLimits(settings)
    handoff = Handoff(sink, media, settings.contact_public_key)
    ids = TipIds.from_settings(settings)
    api = PartnerApi(settings.web_api_keys, limits, handoff, ids)
    pages = FormPages(settings, catalogue, limits, handoff, ids, follow_up=db is not None)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if db is not None:
                await db.close()

    app = FastAPI(
        lifespan=lifespan,
        title="tipline web intake",
        summary="Anonymous tips about published objects, from the public and partner apps.",
        version="1",
        # The Swagger and ReDoc pages load scripts from a CDN: not on a page tipsters can reach.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(("/api/", "/hooks/")) or request.url.path == "/healthz":
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        lang = page_lang(request)
        if exc.status_code == 404:
            return pages.error_page(lang, 404, "not_found_text", back=False)
        # 400 here is a form the multipart parser refused: the page is stale or mangled.
        message = "error_csrf" if exc.status_code < 500 else "error_busy"
        return pages.error_page(lang, exc.status_code, message)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["operations"], summary="Liveness")
    app.add_api_route(
        "/objects/{object_ref}", pages.object_page, methods=["GET"], include_in_schema=False
    )
    app.add_api_route(
        "/objects/{object_ref}/tips", pages.submit_form, methods=["POST"], include_in_schema=False
    )
    app.add_api_route(
        "/objects/{object_ref}/picture",
        pages.object_picture,
        methods=["GET"],
        include_in_schema=False,
    )
    if db is not None:
        follow_up = FollowUpPages(pages, db)
        for path, handler, method in (
            ("/followup", follow_up.code_form, "GET"),
            ("/followup", follow_up.open, "POST"),
            ("/followup/answer", follow_up.answer, "POST"),
        ):
            app.add_api_route(path, handler, methods=[method], include_in_schema=False)
    app.add_api_route(
        "/api/tips",
        api.submit_api,
        methods=["POST"],
        status_code=202,
        tags=["tips"],
        summary="Submit a tip from a partner site or app",
        response_model=ApiReceipt,
        responses=API_RESPONSES,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ApiTip.model_json_schema()}},
            },
            "security": [{"bearer": []}],
        },
    )
    # Platforms that push (signed webhooks) share this server and its body limit.
    app.include_router(
        create_router(settings.webhook_secrets, sink, ids=ids, throttle=limits.credentials)
    )

    document_bearer_auth(app, "The partner's API key (or send it as X-API-Key).")

    def body_limit(path: str) -> int:
        return API_BODY_LIMIT if path.startswith(("/api/", "/hooks/")) else FORM_BODY_LIMIT

    # Added last = outermost: the headers go on every answer, the 413 included.
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    app.add_middleware(SecurityHeadersMiddleware, csp=CSP, hsts=settings.web_secure_cookies)
    return app


async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def serve(
    settings: Settings,
    sink: TipSink,
    media: MediaStore | None = None,
    wrap: Callable[[FastAPI], Any] | None = None,
) -> None:
    """Run the web intake with uvicorn until interrupted: no access log, no server header.
    ``wrap`` puts ASGI middleware in front (the entry point's /metrics, /readyz, drain)."""
    media = media or MediaStore(settings.web_media_dir or settings.data_dir / "media")
    app = create_app(settings, sink, media)
    config = uvicorn.Config(
        wrap(app) if wrap else app,
        host=settings.web_host,
        port=settings.web_port,
        # The access log would write every client address: it stays off.
        access_log=False,
        server_header=False,
        proxy_headers=settings.web_forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.web_forwarded_allow_ips,
        # Keep the process's own logging set-up (tipline/core/logs.py) instead of uvicorn's.
        log_config=None,
    )
    uvicorn.Server(config).run()


__all__ = [
    "ApiReceipt",
    "ApiTip",
    "ObjectCatalogue",
    "create_app",
    "new_tip_id",
    "serve",
]
