"""The analyst side of the reviewer database: a JSON API and server-rendered pages.

Contract (``create_app(settings)``; ``serve(settings)`` runs it with uvicorn):

    GET  /api/queue?object=&status=&language=&q=&photos=&limit=&after=  best tip per cluster
    GET  /api/tips/{tip_id}                    the whole tip, its cluster members and history
    POST /api/tips/{tip_id}/status             new → reviewing → lead | dismissed, audited
    POST /api/claim?object=                    claim the next open cluster (a lease)
    POST /api/tips/{tip_id}/verdict            reason code + note for the tip's cluster
    GET  /api/objects/{object_ref}/consensus   what independent tipsters name for an object
    GET  /api/ops/throughput?minutes=60        tips per minute and channel, status counts
    GET  /api/openapi.json                     this API's description
    GET  /queue, /tips/{id}, /objects/{ref}, /ops   the same as pages (no JavaScript)
    GET  /queue/claims                         one line per claim (shops + cities), any language
    POST /claim, /tips/{id}/verdict|release|merge|split   the console's work steps (forms)
    GET  /audit                                recent audit rows (supervisors)
    GET  /media/{sha256}                       an image, only if some stored tip names it
    GET|POST /login, POST /logout              session for browsers
    GET  /urgent, /api/urgent                  open urgent tips, newest first (review.urgent)
    POST /leads, GET /leads/{id}[/package.json|.csv], POST /leads/{id}/sent   lead packages
    POST /api/leads, GET /api/leads/{id}, POST /api/leads/{id}/sent           (review.leads)
    GET|POST /tips/{id}/followup, GET|POST /api/tips/{id}/questions   follow-up (review.followup)
    GET  /healthz                              liveness; the only route without a login

Every other route needs an analyst: ``Authorization: Bearer <token>`` or the session cookie
the login form sets (``review.api_auth``), and a role that may open it (``review.accounts``:
ops people never read tips; the audit is for supervisors). A browser's state-changing POST
also needs the session's CSRF token. A stopped or frozen database answers 503, not 500.
Responses carry strict security headers and ``no-store``.

This module only wires the app; the handlers live in ``api_json`` (the API), ``api_pages``
(pages), ``api_session`` (login), ``api_media`` (photos) and ``api_errors``, and share
``api_context`` (pool, templates, who is asking) and ``api_steps`` (ids, filters, status changes).

Tipster anonymity: the database holds no identity, and this app shows even the opaque sender
key only as a six-digit tag. Logs name analysts, tip ids and counts; never tip text or notes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import uvicorn
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from review.accounts import EVERYONE, READERS, SUPERVISORS, Role
from review.api_console import ConsolePages
from review.api_context import (
    AnswerWithinMiddleware,
    LoginRequiredError,
    ReviewContext,
    ThrottledError,
    require,
)
from review.api_errors import (
    DATABASE_DOWN,
    database_unavailable,
    http_error,
    login_required,
    throttled,
    validation_error,
)
from review.api_json import JsonApi
from review.api_media import MediaFiles
from review.api_models import ApiError
from review.api_pages import Pages
from review.api_session import LoginPages
from review.followup import FollowUpConsole
from review.leads import LeadPackage, LeadPages
from review.urgent import UrgentView
from tipline.core.http import SecurityHeadersMiddleware, document_bearer_auth
from tipline.core.settings import Settings

HERE: Final = Path(__file__).parent

# Only our own stylesheet and (authorised) photos; no script at all; never indexed.
CSP: Final = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; script-src 'none'; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NO_INDEX: Final = ((b"x-robots-tag", b"noindex, nofollow"),)

_ERRORS: Final[Mapping[int | str, dict[str, Any]]] = {
    401: {"model": ApiError, "description": "Missing or wrong access token."},
    404: {"model": ApiError, "description": "No such tip or object."},
    422: {"model": ApiError, "description": "Invalid parameters (the input is not echoed)."},
}


def create_app(settings: Settings) -> FastAPI:
    """The review app as an ASGI app; it opens its connection pool in its lifespan."""
    review = ReviewContext(settings)
    json_api = JsonApi(review)
    pages = Pages(review)
    login = LoginPages(review)
    media = MediaFiles(review)
    console = ConsolePages(review)
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
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(LoginRequiredError, login_required)
    app.add_exception_handler(ThrottledError, throttled)
    for unavailable in DATABASE_DOWN:
        app.add_exception_handler(unavailable, database_unavailable)

    def api(
        path: str, endpoint: Any, method: str = "GET", *, roles: frozenset[Role], **kwargs: Any
    ) -> None:
        app.add_api_route(
            path,
            endpoint,
            methods=[method],
            tags=kwargs.pop("tags", ["review"]),
            responses={**_ERRORS, **kwargs.pop("responses", {})},
            openapi_extra={"security": [{"bearer": []}]},
            dependencies=[Depends(require(roles, api=True))],
            **kwargs,
        )

    def page(path: str, endpoint: Any, method: str = "GET", *, roles: frozenset[Role]) -> None:
        app.add_api_route(
            path,
            endpoint,
            methods=[method],
            include_in_schema=False,
            dependencies=[Depends(require(roles, api=False))],
        )

    app.add_api_route(
        "/healthz", json_api.healthz, methods=["GET"], tags=["operations"], summary="Liveness"
    )
    api(
        "/api/queue",
        json_api.api_queue,
        roles=READERS,
        summary="The queue: the best open tip per cluster",
    )
    api(
        "/api/tips/{tip_id}",
        json_api.api_tip,
        roles=READERS,
        summary="A tip with its cluster and history (audited)",
    )
    api(
        "/api/tips/{tip_id}/status",
        json_api.api_status,
        "POST",
        roles=READERS,
        summary="Change a tip's (or its cluster's) status; audited",
        responses={409: {"model": ApiError, "description": "Moved meanwhile, or not allowed."}},
    )
    api(
        "/api/claim",
        console.api_claim,
        "POST",
        roles=READERS,
        summary="Claim the next open cluster (or keep one's own); a lease that runs out",
    )
    api(
        "/api/tips/{tip_id}/verdict",
        console.api_verdict,
        "POST",
        roles=READERS,
        summary="Decide a tip's cluster with a reason code and a note; audited",
        responses={409: {"model": ApiError, "description": "Claimed by another, or decided."}},
    )
    api(
        "/api/objects/{object_ref}/consensus",
        json_api.api_consensus,
        roles=READERS,
        summary="What independent tipsters name for an object",
    )
    api(
        "/api/ops/throughput",
        json_api.api_ops,
        roles=EVERYONE,
        tags=["operations"],
        summary="Tips per minute and channel, counts by status, oldest unreviewed tip",
    )
    app.add_api_route(
        "/api/openapi.json",
        json_api.api_openapi,
        methods=["GET"],
        include_in_schema=False,
        dependencies=[Depends(require(EVERYONE, api=True))],
    )
    page("/", pages.home, roles=EVERYONE)
    app.add_api_route("/login", login.login_form, methods=["GET"], include_in_schema=False)
    app.add_api_route("/login", login.login, methods=["POST"], include_in_schema=False)
    page("/logout", login.logout, "POST", roles=EVERYONE)
    page("/queue", pages.queue_page, roles=READERS)
    page("/queue/claims", console.named_page, roles=READERS)
    page("/claim", console.claim_form, "POST", roles=READERS)
    page("/tips/{tip_id}", pages.tip_page, roles=READERS)
    page("/tips/{tip_id}/status", pages.tip_status_form, "POST", roles=READERS)
    page("/tips/{tip_id}/verdict", console.verdict_form, "POST", roles=READERS)
    page("/tips/{tip_id}/release", console.release_form, "POST", roles=READERS)
    page("/tips/{tip_id}/merge", console.merge_form, "POST", roles=READERS)
    page("/tips/{tip_id}/split", console.split_form, "POST", roles=READERS)
    page("/objects/{object_ref}", pages.object_page, roles=READERS)
    page("/ops", pages.ops_page, roles=EVERYONE)
    page("/audit", console.audit_page, roles=SUPERVISORS)
    page("/media/{sha256}", media.media, roles=READERS)
    _wire_leads(review, api, page)

    document_bearer_auth(app, "The analyst's access token.")
    app.add_middleware(AnswerWithinMiddleware, seconds=settings.review_db_timeout + 1)
    app.add_middleware(
        SecurityHeadersMiddleware, csp=CSP, extra=NO_INDEX, hsts=settings.review_secure_cookies
    )
    return app


def _wire_leads(review: ReviewContext, api: Any, page: Any) -> None:
    """Routes for lead packages, tipster follow-up and the urgent view."""
    leads = LeadPages(review)
    follow_up = FollowUpConsole(review)
    urgent = UrgentView(review)
    page("/urgent", urgent.page, roles=READERS)
    api("/api/urgent", urgent.api, roles=READERS, summary="Open urgent tips, newest first")
    page("/objects/{object_ref}/picture", leads.object_picture, roles=READERS)
    page("/leads", leads.build_form, "POST", roles=READERS)
    page("/leads/{lead_id}", leads.report, roles=READERS)
    page("/leads/{lead_id}/package.json", leads.download_json, roles=READERS)
    page("/leads/{lead_id}/package.csv", leads.download_csv, roles=READERS)
    page("/leads/{lead_id}/sent", leads.sent_form, "POST", roles=READERS)
    page("/tips/{tip_id}/followup", follow_up.page, roles=READERS)
    page("/tips/{tip_id}/followup", follow_up.ask_form, "POST", roles=READERS)
    api(
        "/api/leads",
        leads.api_build,
        "POST",
        roles=READERS,
        status_code=201,
        summary="Build a lead package",
    )
    api(
        "/api/leads/{lead_id}",
        leads.api_package,
        roles=READERS,
        response_model=LeadPackage,
        summary="A lead package (audited as downloaded)",
    )
    api(
        "/api/leads/{lead_id}/sent",
        leads.api_sent,
        "POST",
        roles=READERS,
        status_code=204,
        summary="Record that a package was sent to an authority on a date",
    )
    api(
        "/api/tips/{tip_id}/questions",
        follow_up.api_thread,
        roles=READERS,
        summary="A tip's follow-up thread",
    )
    api(
        "/api/tips/{tip_id}/questions",
        follow_up.api_ask,
        "POST",
        roles=READERS,
        summary="Ask the tipster a question (read with their receipt code)",
        responses={409: {"model": ApiError, "description": "The tipster has no receipt."}},
    )


def serve(settings: Settings, wrap: Callable[[FastAPI], Any] | None = None) -> None:
    """Run the review app with uvicorn until interrupted: no access log, no server header.
    ``wrap`` puts ASGI middleware in front (the entry point's /metrics, /readyz)."""
    app = create_app(settings)
    config = uvicorn.Config(
        wrap(app) if wrap else app,
        host=settings.review_host,
        port=settings.review_port,
        # Access logs would record which analyst read which tip, outside the audit: off.
        access_log=False,
        server_header=False,
        log_config=None,
    )
    uvicorn.Server(config).run()


__all__ = ["create_app", "serve"]
