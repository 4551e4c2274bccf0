"""What the review app's handlers share: settings, the pool, templates, who is asking, forms.

Sign-in and sessions: the cookie carries a random session id, the session lives in the
database (``review.console_store``), so logout, ``tipline analyst disable`` and ``tipline
analyst revoke`` end it at once. Every credential check (session sign-in, bearer token) is
throttled by ``review.throttle`` before it runs.

Forms: every state-changing POST of a browser passes ``check_form``: the shared same-origin
rule (``tipline.core.http.origin_of``) refuses what a browser says comes from another site, and
the session's CSRF token is required in every case, with or without an Origin header.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from psycopg_pool import AsyncConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review import console_store
from review.accounts import Role
from review.api_auth import Analyst, Authenticator, csrf_ok
from review.api_templates import page_templates
from review.throttle import BEARER, CredentialThrottle
from tipline.core.errors import ConfigurationError
from tipline.core.http import Origin, origin_of
from tipline.core.security import database_conninfo
from tipline.core.settings import Settings

log = logging.getLogger(__name__)

FOREIGN_FORM: Final = "This form was sent from another site, so it was not accepted."
STALE_FORM: Final = (
    "Wrong token: this form's security token is not the one of your session (the page may be "
    "from an earlier sign-in). Reload the page and send it again."
)


class LoginRequiredError(Exception):
    """A page was asked for without a session: answered with a redirect to the login form."""


class ThrottledError(Exception):
    """Too many failed credential checks: answered 429 with Retry-After, nothing checked."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"retry in {wait:.0f} s")
        self.wait = wait


class ReviewContext:
    """One per app (``app.state.review``): the pool, the templates and the credential checks."""

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None:
            raise ConfigurationError("review app: TIPLINE_DATABASE_URL is not set")
        self.settings = settings
        self.url = database_conninfo(settings)  # with the TLS settings applied
        self.auth = Authenticator(settings.review_tokens)
        self.throttle = CredentialThrottle(
            name_burst=settings.review_login_burst,
            name_per_minute=settings.review_login_per_minute,
            global_burst=settings.review_failures_burst,
            global_per_second=settings.review_failures_per_second,
        )
        # __Host- pins the cookie to this origin; browsers accept that prefix only with Secure.
        secure = settings.review_secure_cookies
        self.cookie = "__Host-tipline-review" if secure else "tipline-review"
        self.login_cookie = "__Host-tipline-login" if secure else "tipline-login"
        self.session_seconds = settings.review_session_hours * 3600
        self.claim_seconds = settings.review_claim_minutes * 60
        self.pool: AsyncConnectionPool[Any] | None = None
        self.templates = page_templates()

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        timeout = self.settings.review_db_timeout
        self.pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=8,
            open=False,
            # A stopped or frozen database must answer 503 within the timeout, not hang.
            timeout=timeout,
            # No server-side prepared statements: a cached generic plan ignores the values of
            # a filter and fell back to a sequential scan for the media probe (70 ms at 200k
            # tips instead of 0.2 ms). Planning each query costs well under a millisecond.
            kwargs={
                "autocommit": True,
                "application_name": "tipline-review",
                "prepare_threshold": None,
                "connect_timeout": max(1, math.ceil(timeout)),
                "options": f"-c statement_timeout={int(timeout * 1000)}",
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

    async def session(self, request: Request) -> Analyst | None:
        """The analyst of the request's session cookie, if it names a live session."""
        cookie = request.cookies.get(self.cookie)
        if not cookie or len(cookie) > 128:
            return None
        async with self.connection() as conn:
            return await console_store.session(conn, cookie)

    def _bearer(self, request: Request) -> Analyst | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        wait = self.throttle.wait(BEARER)
        if wait:
            log.warning("credential checks throttled (bearer tokens)")
            raise ThrottledError(wait)
        name = self.auth.analyst_for_token(token)
        if name is None:
            self.throttle.failed(BEARER)
            raise StarletteHTTPException(
                401, "missing or wrong access token", headers={"www-authenticate": "Bearer"}
            )
        return Analyst(name=name, role="analyst")

    async def analyst_for_api(self, request: Request) -> Analyst:
        analyst = self._bearer(request) or await self.session(request)
        if analyst is None:
            raise StarletteHTTPException(
                401, "missing or wrong access token", headers={"www-authenticate": "Bearer"}
            )
        # A browser session posting JSON must prove the request came from our own pages.
        if request.method == "POST" and analyst.csrf is not None:
            if origin_of(request.headers, request.headers.get("host")) is Origin.FOREIGN:
                raise StarletteHTTPException(403, FOREIGN_FORM)
            if not csrf_ok(analyst, request.headers.get("x-csrf-token")):
                raise StarletteHTTPException(403, "CSRF token missing or wrong")
        request.state.analyst = analyst
        return analyst

    async def analyst_for_page(self, request: Request) -> Analyst:
        analyst = await self.session(request) or self._bearer(request)
        if analyst is None:
            raise LoginRequiredError
        request.state.analyst = analyst
        return analyst


def check_form(request: Request, analyst: Analyst, csrf: object) -> None:
    """A browser form's two guards: not from another site, and this session's CSRF token."""
    if origin_of(request.headers, request.headers.get("host")) is Origin.FOREIGN:
        raise StarletteHTTPException(403, FOREIGN_FORM)
    if analyst.csrf is not None and not csrf_ok(analyst, csrf):
        raise StarletteHTTPException(403, STALE_FORM)


# The handlers' FastAPI dependencies; they find the context the app was made with.


async def api_analyst(request: Request) -> Analyst:
    """The analyst behind an API call: token or session (and, to POST, the CSRF header)."""
    review: ReviewContext = request.app.state.review
    return await review.analyst_for_api(request)


async def page_analyst(request: Request) -> Analyst:
    """The analyst behind a page: session or token, else a redirect to the login form."""
    review: ReviewContext = request.app.state.review
    return await review.analyst_for_page(request)


def require(roles: Collection[Role], *, api: bool) -> Callable[..., Awaitable[Analyst]]:
    """A route dependency: the asking analyst must hold one of ``roles`` (else 403)."""
    allowed = frozenset(roles)

    async def check(
        analyst: Analyst = Depends(api_analyst if api else page_analyst),  # noqa: B008
    ) -> Analyst:
        if analyst.role not in allowed:
            raise StarletteHTTPException(403, f"Your role ({analyst.role}) may not open this.")
        return analyst

    check.roles = allowed  # type: ignore[attr-defined]
    return check


async def asked_by(request: Request) -> Analyst | None:
    """The analyst a dependency already found for this request (error pages: no database)."""
    found = getattr(request.state, "analyst", None)
    return found if isinstance(found, Analyst) else None


class AnswerWithinMiddleware:
    """No request waits longer than ``seconds`` for a frozen database: past it, 503 at once.

    The handler is then cancelled in the background (psycopg tries to cancel the query on
    the server, which takes a while more against a frozen one); what it still sends is dropped.
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = {"started": False, "answered": False}

        async def guarded_send(message: Message) -> None:
            if state["answered"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if done or state["started"]:
            await task
            return
        state["answered"] = True
        task.cancel()
        task.add_done_callback(_forget)
        log.warning("request answered 503: the reviewer database did not answer in time")
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", b"10"),
                ],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": b"The reviewer database is not answering; try again shortly.\n",
            }
        )


def _forget(task: asyncio.Future[None]) -> None:
    # Retrieve the outcome of an abandoned handler so asyncio does not warn about it.
    if not task.cancelled():
        task.exception()
