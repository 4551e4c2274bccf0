"""Logging analysts in and out of the review pages: the login form and the session cookie."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from review.api_auth import Analyst, csrf_ok
from review.api_context import ReviewContext, page_analyst, same_origin
from review.api_queries import safe_next

log = logging.getLogger(__name__)


class LoginPages:
    """``/login`` and ``/logout``; ``create_app`` wires them to routes."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    async def login_form(
        self, target: Annotated[str | None, Query(alias="next", max_length=2000)] = None
    ) -> HTMLResponse:
        return self.review.render("login.html", None, next=safe_next(target), failed=False)

    async def login(
        self,
        request: Request,
        token: Annotated[str, Form(max_length=512)],
        target: Annotated[str, Form(alias="next", max_length=2000)] = "/queue",
    ) -> Response:
        if not same_origin(request):
            raise StarletteHTTPException(403, "This form was sent from another site.")
        review = self.review
        name = review.auth.analyst_for_token(token)
        if name is None:
            log.info("review login refused: wrong token")
            return review.render("login.html", None, 401, next=safe_next(target), failed=True)
        cookie, _ = review.auth.issue(name)
        log.info("analyst %s logged in", name)
        response = RedirectResponse(safe_next(target), 303)
        response.set_cookie(
            review.cookie,
            cookie,
            max_age=int(review.settings.review_session_hours * 3600),
            path="/",
            httponly=True,
            samesite="strict",
            secure=review.settings.review_secure_cookies,
        )
        return response

    async def logout(
        self,
        request: Request,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        if not csrf_ok(analyst, csrf):
            raise StarletteHTTPException(403, "The form has expired; reload the page.")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(
            self.review.cookie,
            path="/",
            secure=self.review.settings.review_secure_cookies,
            httponly=True,
        )
        log.info("analyst %s logged out", analyst.name)
        return response
