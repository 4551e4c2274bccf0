"""Signing analysts in and out of the review pages: the login form and the session cookie.

The login form carries its own CSRF token (a double-submit cookie set with the form), so a
login POST without an Origin header is still checked; a foreign Origin is refused first.
Each attempt passes the credential throttle before any password is looked at.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Annotated

from fastapi import Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from review import console_store
from review.accounts import Role, password_matches
from review.api_auth import CSRF_RE, Analyst
from review.api_context import (
    FOREIGN_FORM,
    ReviewContext,
    ThrottledError,
    check_form,
    page_analyst,
)
from review.api_queries import safe_next
from tipline.core.http import Origin, origin_of, tokens_match

log = logging.getLogger(__name__)

LOGIN_EXPIRED = (
    "Wrong token: the sign-in form's security token is missing or old. Reload the page and "
    "sign in again."
)


class LoginPages:
    """``/login`` and ``/logout``; ``create_app`` wires them to routes."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    def _form(
        self, request: Request, target: str | None, status: int = 200, failed: bool = False
    ) -> HTMLResponse:
        token = request.cookies.get(self.review.login_cookie, "")
        if not CSRF_RE.fullmatch(token):
            token = secrets.token_urlsafe(32)
        response = self.review.render(
            "login.html", None, status, next=safe_next(target), failed=failed, csrf=token
        )
        response.set_cookie(
            self.review.login_cookie,
            token,
            max_age=3600,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.review.settings.review_secure_cookies,
        )
        return response

    async def login_form(
        self,
        request: Request,
        target: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
    ) -> HTMLResponse:
        return self._form(request, target)

    async def login(
        self,
        request: Request,
        name: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=512)],
        csrf: Annotated[str, Form(max_length=64)] = "",
        target: Annotated[str, Form(alias="next", max_length=2000)] = "/queue",
    ) -> Response:
        if origin_of(request.headers, request.headers.get("host")) is Origin.FOREIGN:
            raise StarletteHTTPException(403, FOREIGN_FORM)
        if not tokens_match(request.cookies.get(self.review.login_cookie), csrf):
            raise StarletteHTTPException(403, LOGIN_EXPIRED)
        review = self.review
        name = name.strip()
        wait = review.throttle.wait(name)
        if wait:
            log.warning("credential checks throttled (sign-in)")
            raise ThrottledError(wait)
        found = await self._check(name, password)
        if found is None:
            review.throttle.failed(name)
            log.info("review sign-in refused: wrong name or password")
            return self._form(request, target, 401, failed=True)
        role, via = found
        async with review.connection() as conn:
            cookie, _ = await console_store.open_session(
                conn, name, role, via, review.session_seconds
            )
        log.info("analyst %s signed in (%s)", name, via)
        response = RedirectResponse(safe_next(target), 303)
        response.set_cookie(
            review.cookie,
            cookie,
            max_age=int(review.session_seconds),
            path="/",
            httponly=True,
            samesite="strict",
            secure=review.settings.review_secure_cookies,
        )
        response.delete_cookie(review.login_cookie, path="/")
        return response

    async def _check(self, name: str, password: str) -> tuple[Role, str] | None:
        """(role, how) if the password is the account's, or the token of a token analyst."""
        async with self.review.connection() as conn:
            found = await console_store.account(conn, name)
        if found is not None:
            role, phc, disabled = found
            # argon2 takes tens of milliseconds and memory: off the event loop.
            ok = await asyncio.to_thread(password_matches, phc, password)
            return (role, "password") if ok and not disabled else None
        # No account: the access token of a token analyst, or the same slow refusal.
        await asyncio.to_thread(password_matches, None, password)
        return ("analyst", "token") if self.review.auth.token_of(name, password) else None

    async def logout(
        self,
        request: Request,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        check_form(request, analyst, csrf)
        cookie = request.cookies.get(self.review.cookie)
        if cookie:
            async with self.review.connection() as conn:
                await console_store.close_session(conn, cookie, analyst.name)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(
            self.review.cookie,
            path="/",
            secure=self.review.settings.review_secure_cookies,
            httponly=True,
        )
        log.info("analyst %s signed out", analyst.name)
        return response
