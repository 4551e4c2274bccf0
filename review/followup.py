"""Anonymous follow-up, the analysts' side: ask a tipster a question, read the answers.

A question is stored against the tip that holds the follow-up receipt (an answer's questions
go to the tip it answers). The tipster reads it on the intake's ``/followup`` page with the
receipt code only they hold (``ingest/followup_pages.py``); the answer comes back through the
pipeline as a new tip whose ``follow_up_of`` names the original, redacted like any tip. The
console never learns who holds a receipt: the database has a lookup id and an argon2 hash.
Asking is audited (``followup_questions.asked_by``).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Final

from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from review.api_auth import Analyst
from review.api_context import ReviewContext, api_analyst, page_analyst
from review.leads import form_checked
from schemas.tip import TipId

log = logging.getLogger(__name__)

Conn = AsyncConnection[Any]
_TIP_ID: Final = TypeAdapter(TipId)

_ROOT: Final = """
SELECT t.tip_id, coalesce(t.follow_up_of, t.tip_id) AS root,
       EXISTS (SELECT 1 FROM followup_receipts r
               WHERE r.tip_id = coalesce(t.follow_up_of, t.tip_id)) AS reachable
FROM tips t WHERE t.tip_id = %s
"""
_QUESTIONS: Final = """
SELECT id, question, asked_by, asked_at FROM followup_questions
WHERE tip_id = %s ORDER BY asked_at, id
"""
_ANSWERS: Final = """
SELECT tip_id, received_at, subject, body, language, score, status FROM tips
WHERE follow_up_of = %s ORDER BY received_at, tip_id LIMIT 200
"""


class QuestionIn(BaseModel):
    """``POST /api/tips/{tip_id}/questions``: a question for the tipster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str = Field(min_length=1, max_length=2000)


async def _rows(conn: Conn, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        rows: list[dict[str, Any]] = await cur.fetchall()
        return rows


async def thread(conn: Conn, tip_id: str) -> dict[str, Any] | None:
    """The tip's follow-up thread: the root tip, whether its tipster can be asked, Q and A."""
    found = await _rows(conn, _ROOT, (tip_id,))
    if not found:
        return None
    root = found[0]["root"]
    return {
        "tip_id": tip_id,
        "root": root,
        "reachable": found[0]["reachable"],
        "questions": await _rows(conn, _QUESTIONS, (root,)),
        "answers": await _rows(conn, _ANSWERS, (root,)),
    }


async def ask(conn: Conn, tip_id: str, question: str, analyst: str) -> int | None:
    """Store a question on the tip's thread; its id, or None if no tipster can read it."""
    found = await _rows(conn, _ROOT, (tip_id,))
    if not found or not found[0]["reachable"]:
        return None
    rows = await _rows(
        conn,
        "INSERT INTO followup_questions (tip_id, question, asked_by) VALUES (%s, %s, %s)"
        " RETURNING id",
        (found[0]["root"], question.strip(), analyst),
    )
    return int(rows[0]["id"])


class FollowUpConsole:
    """The follow-up page of a tip in the console, its question form and the JSON API."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    def _valid(self, tip_id: str) -> None:
        try:
            _TIP_ID.validate_python(tip_id)
        except ValidationError as exc:
            raise StarletteHTTPException(404, "There is no tip with this id.") from exc

    async def _thread(self, tip_id: str) -> dict[str, Any]:
        self._valid(tip_id)
        async with self.review.connection() as conn:
            found = await thread(conn, tip_id)
        if found is None:
            raise StarletteHTTPException(404, "There is no tip with this id.")
        return found

    async def _ask(self, tip_id: str, question: str, analyst: Analyst) -> int:
        self._valid(tip_id)
        if not question.strip():
            raise StarletteHTTPException(422, "Write the question first.")
        async with self.review.connection() as conn:
            asked = await ask(conn, tip_id, question, analyst.name)
        if asked is None:
            raise StarletteHTTPException(
                409, "This tipster has no follow-up receipt, so nobody could read a question."
            )
        log.info("analyst %s asked question %d on tip %s", analyst.name, asked, tip_id)
        return asked

    async def page(
        self, tip_id: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> HTMLResponse:
        return self.review.render("followup.html", analyst, thread=await self._thread(tip_id))

    async def ask_form(
        self,
        *,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        question: Annotated[str, Form(max_length=2000)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        form_checked(request, analyst, csrf)
        await self._ask(tip_id, question, analyst)
        return RedirectResponse(f"/tips/{tip_id}/followup?asked=1", 303)

    async def api_thread(
        self, tip_id: str, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> dict[str, Any]:
        return await self._thread(tip_id)

    async def api_ask(
        self, tip_id: str, body: QuestionIn, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> dict[str, int]:
        return {"question_id": await self._ask(tip_id, body.question, analyst)}
