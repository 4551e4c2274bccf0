"""The public follow-up page: a tipster with a receipt code reads an analyst's question, answers.

    GET  /followup          a form asking for the code (never in a URL: it would sit in history)
    POST /followup          the code checked → the questions, each with an answer form
    POST /followup/answer   an answer: a new RawTip with ``follow_up_of`` = the original tip

The answer is a tip like any other: it goes to the broker, is normalised, redacted and scored,
and the console shows it beside the tip it answers. A wrong code and an unknown one get the same
answer after the same argon2 work, so the page does not tell which lookup ids exist. The form
rate limit applies to every POST here, so codes cannot be tried fast.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ingest.followup import issue_receipt, parse_code, verify_secret
from ingest.followup_db import StoredReceipt, find_receipt, questions_for
from ingest.web_form import FormPages, new_tip_id
from schemas.tip import MAX_BODY_CHARS, RawTip
from tipline.core.errors import TransientError

if TYPE_CHECKING:
    from ingest.catalogue_db import IngestDatabase

log = logging.getLogger(__name__)

# A real hash of a secret nobody holds: an unknown lookup id costs the same argon2 check.
_DECOY_HASH: Final = issue_receipt().stored.secret_hash


class FollowUpPages:
    """Handlers of the follow-up page; ``FormPages`` renders, checks CSRF and rate limits."""

    def __init__(self, pages: FormPages, db: IngestDatabase) -> None:
        self.pages = pages
        self.db = db

    async def code_form(self, request: Request) -> HTMLResponse:
        lang, token = self.pages.lang_and_token(request)
        return self.pages.with_csrf(
            self.pages.render("followup.html", lang, csrf=token, wrong=False), token
        )

    async def open(self, request: Request) -> HTMLResponse:
        return await self._handle(request, answering=False)

    async def answer(self, request: Request) -> HTMLResponse:
        return await self._handle(request, answering=True)

    async def _handle(self, request: Request, *, answering: bool) -> HTMLResponse:
        lang, token = self.pages.lang_and_token(request)
        refused = await self.pages.refuse_post(request, lang)
        if refused is not None:
            return refused
        form = await request.form(max_files=0, max_fields=5, max_part_size=64 * 1024)
        try:
            if not self.pages.csrf_matches(request, form.get("csrf")):
                return self.pages.error_page(lang, 403, "error_csrf")
            code = form.get("code")
            receipt = await self._check(code if isinstance(code, str) else "")
            if receipt is None:
                log.info("follow-up refused: code not recognised")
                page = self.pages.render("followup.html", lang, 404, csrf=token, wrong=True)
                return self.pages.with_csrf(page, token)
            thanks = False
            if answering:
                text = form.get("text")
                question = form.get("question")
                if not isinstance(text, str) or not text.strip():
                    return self.pages.error_page(lang, 422, "error_empty")
                if len(text) > MAX_BODY_CHARS:
                    return self.pages.error_page(lang, 422, "error_too_long")
                raw = RawTip(
                    tip_id="f" + new_tip_id()[1:],
                    channel="web",
                    received_at=datetime.now(UTC),
                    object_ref=receipt.object_ref,
                    # Which question it answers travels as text the analyst reads, nothing more.
                    subject=f"Answer to question {question}"
                    if isinstance(question, str) and question.isdigit()
                    else "Follow-up answer",
                    body=text,
                    follow_up_of=receipt.tip_id,
                    channel_meta={"interface": "followup", "ui_lang": lang},
                )
                refusal = await self.pages.handoff.accept(raw)
                if refusal is not None:
                    message = "error_unconfirmed" if refusal.maybe_saved else "error_busy"
                    return self.pages.error_page(
                        lang, 503, message, retry_after=refusal.retry_after
                    )
                thanks = True
            try:
                questions = await questions_for(self.db, receipt.tip_id)
            except TransientError:
                return self.pages.error_page(lang, 503, "error_busy", retry_after=30)
            page = self.pages.render(
                "followup_questions.html",
                lang,
                csrf=token,
                # Echoed only into this no-store page's hidden field, so the next answer needs
                # no retyping; it is the tipster's own code, sent by the tipster.
                code=code,
                questions=questions,
                thanks=thanks,
                max_chars=MAX_BODY_CHARS,
            )
            return self.pages.with_csrf(page, token)
        finally:
            await form.close()

    async def _check(self, typed: str) -> StoredReceipt | None:
        parsed = parse_code(typed)
        if parsed is None:
            return None
        lookup, secret = parsed
        try:
            receipt = await find_receipt(self.db, lookup)
        except TransientError:
            return None
        ok = await run_in_threadpool(
            verify_secret, receipt.secret_hash if receipt else _DECOY_HASH, secret
        )
        return receipt if ok and receipt is not None else None
