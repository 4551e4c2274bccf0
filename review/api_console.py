"""The console's work steps: claim the next cluster, give a verdict, merge and split clusters,
the one-line-per-claim view across languages, and the supervisors' audit page."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from review import console_store
from review.api_auth import Analyst
from review.api_context import ReviewContext, api_analyst, check_form, page_analyst
from review.api_queries import STATUSES, Status
from review.api_steps import OBJECT_REF, TIP_ID, valid
from review.console_store import ConsoleConflictError, Reason

MAX_SPLIT: Final = 200


class ClaimOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    tip_id: str | None = Field(description="The best open tip of the claimed cluster; null: none.")
    unit: str | None = Field(description="The cluster id, or 'tip:<id>' for a tip alone.")
    expires_at: str | None


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Reason
    note: str | None = Field(default=None, max_length=2000)


class VerdictOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit: str
    reason: Reason
    status: str
    tips: tuple[str, ...]


class ConsolePages:
    """Claim, verdict, merge, split, release, the claims view and the audit page."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    async def _claim(self, analyst: Analyst, object_ref: str | None) -> console_store.Claim | None:
        if object_ref:
            valid(OBJECT_REF, object_ref, "There is no object with this id.")
        async with self.review.connection() as conn:
            return await console_store.claim_next(
                conn, analyst.name, self.review.claim_seconds, object_ref or None
            )

    async def claim_form(
        self,
        request: Request,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        csrf: Annotated[str, Form(max_length=64)] = "",
        object_ref: Annotated[str, Form(alias="object", max_length=64)] = "",
    ) -> Response:
        check_form(request, analyst, csrf)
        claim = await self._claim(analyst, object_ref)
        if claim is None:
            return self.review.render(
                "error.html", analyst, 200, code=200, message="Nothing open is left to claim."
            )
        return RedirectResponse(f"/tips/{claim.tip_id}", 303)

    async def api_claim(
        self,
        analyst: Annotated[Analyst, Depends(api_analyst)],
        object_ref: Annotated[str | None, Query(alias="object", max_length=64)] = None,
    ) -> ClaimOut:
        claim = await self._claim(analyst, object_ref)
        if claim is None:
            return ClaimOut(tip_id=None, unit=None, expires_at=None)
        return ClaimOut(
            tip_id=claim.tip_id, unit=claim.unit, expires_at=claim.expires_at.isoformat()
        )

    async def _verdict(
        self, analyst: Analyst, tip_id: str, reason: Reason, note: str | None
    ) -> console_store.VerdictResult:
        valid(TIP_ID, tip_id, "There is no tip with this id.")
        async with self.review.connection() as conn:
            try:
                return await console_store.give_verdict(conn, analyst, tip_id, reason, note)
            except ConsoleConflictError as exc:
                raise StarletteHTTPException(409, str(exc)) from exc

    async def verdict_form(
        self,
        *,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        reason: Annotated[Reason, Form()],
        csrf: Annotated[str, Form(max_length=64)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        check_form(request, analyst, csrf)
        await self._verdict(analyst, tip_id, reason, note)
        return RedirectResponse(f"/tips/{tip_id}?done=verdict", 303)

    async def api_verdict(
        self,
        tip_id: str,
        verdict: VerdictIn,
        analyst: Annotated[Analyst, Depends(api_analyst)],
    ) -> VerdictOut:
        result = await self._verdict(analyst, tip_id, verdict.reason, verdict.note)
        return VerdictOut(
            unit=result.unit, reason=result.reason, status=result.status, tips=result.tips
        )

    async def release_form(
        self,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        check_form(request, analyst, csrf)
        valid(TIP_ID, tip_id, "There is no tip with this id.")
        async with self.review.connection() as conn:
            unit = await console_store.unit_of(conn, tip_id)
            if unit is None or not await console_store.release(conn, analyst, unit):
                raise StarletteHTTPException(409, "You do not hold a claim on this cluster.")
        return RedirectResponse(f"/tips/{tip_id}?done=released", 303)

    async def merge_form(
        self,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        other: Annotated[str, Form(max_length=200)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        check_form(request, analyst, csrf)
        other = other.strip()
        valid(TIP_ID, tip_id, "There is no tip with this id.")
        valid(TIP_ID, other, "There is no tip with that id to merge.")
        async with self.review.connection() as conn:
            try:
                await console_store.merge(conn, analyst, tip_id, other)
            except ConsoleConflictError as exc:
                raise StarletteHTTPException(409, str(exc)) from exc
        return RedirectResponse(f"/tips/{tip_id}?done=merged", 303)

    async def split_form(
        self,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        form = await request.form(max_fields=MAX_SPLIT + 2)
        check_form(request, analyst, form.get("csrf", csrf))
        members = [m for m in form.getlist("member") if isinstance(m, str)]
        valid(TIP_ID, tip_id, "There is no tip with this id.")
        async with self.review.connection() as conn:
            try:
                result = await console_store.split(conn, analyst, tip_id, members)
            except ConsoleConflictError as exc:
                raise StarletteHTTPException(409, str(exc)) from exc
        first = result.moved[0]
        return RedirectResponse(f"/tips/{first}?done=split", 303)

    async def named_page(
        self,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        object_ref: Annotated[str | None, Query(alias="object", max_length=64)] = None,
        status: Status = "new",
    ) -> HTMLResponse:
        if object_ref:
            valid(OBJECT_REF, object_ref, "There is no object with this id.")
        async with self.review.connection() as conn:
            lines = await console_store.named_lines(conn, status, object_ref or None)
        return self.review.render(
            "claims.html",
            analyst,
            lines=lines,
            object_ref=object_ref or "",
            wanted_status=status,
            statuses=STATUSES,
        )

    async def audit_page(self, analyst: Annotated[Analyst, Depends(page_analyst)]) -> HTMLResponse:
        async with self.review.connection() as conn:
            rows = await console_store.recent_audit(conn)
        return self.review.render("audit.html", analyst, rows=rows)
