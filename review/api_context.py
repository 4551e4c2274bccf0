"""What the review app's handlers share: settings, the connection pool, templates, who is asking."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from psycopg_pool import AsyncConnectionPool
from starlette.exceptions import HTTPException as StarletteHTTPException

from review.api_auth import Analyst, Authenticator, csrf_ok
from review.api_templates import page_templates
from tipline.errors import ConfigurationError
from tipline.settings import Settings

log = logging.getLogger(__name__)


class LoginRequiredError(Exception):
    """A page was asked for without a session: answered with a redirect to the login form."""


class ReviewContext:
    """One per app (``app.state.review``): the pool, the templates and the analysts' credentials."""

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
        # __Host- pins the cookie to this origin; browsers accept that prefix only with Secure.
        secure = settings.review_secure_cookies
        self.cookie = "__Host-tipline-review" if secure else "tipline-review"
        self.pool: AsyncConnectionPool[Any] | None = None
        self.templates = page_templates()

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

    def session(self, request: Request) -> Analyst | None:
        """The analyst of the request's session cookie, if it carries a valid one."""
        cookie = request.cookies.get(self.cookie)
        return self.auth.verify(cookie) if cookie else None

    def _bearer(self, request: Request) -> Analyst | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        name = self.auth.analyst_for_token(token)
        return Analyst(name=name) if name else None

    def analyst_for_api(self, request: Request) -> Analyst:
        analyst = self._bearer(request) or self.session(request)
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

    def analyst_for_page(self, request: Request) -> Analyst:
        analyst = self.session(request) or self._bearer(request)
        if analyst is None:
            raise LoginRequiredError
        return analyst


# The handlers' FastAPI dependencies; they find the context the app was made with.


async def api_analyst(request: Request) -> Analyst:
    """The analyst behind an API call: token or session (and, to POST, the CSRF header)."""
    review: ReviewContext = request.app.state.review
    return review.analyst_for_api(request)


async def page_analyst(request: Request) -> Analyst:
    """The analyst behind a page: session or token, else a redirect to the login form."""
    review: ReviewContext = request.app.state.review
    return review.analyst_for_page(request)


def same_origin(request: Request) -> bool:
    """A browser's Origin, when sent, must be this site: a second guard beside the token."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")
