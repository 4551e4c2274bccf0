"""The review app's JSON API: the queue, a tip, status changes, consensus, throughput."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from review import api_store
from review.api_auth import Analyst
from review.api_context import ReviewContext, api_analyst
from review.api_models import (
    Consensus,
    OpsSummary,
    QueuePage,
    StatusChangeIn,
    StatusChangeResult,
    TipDetail,
)
from review.api_queries import DEFAULT_PAGE, MAX_PAGE, Status
from review.api_steps import (
    MAX_MINUTES,
    OBJECT_REF,
    change_status,
    find_tip,
    queue_filter,
    valid,
)


class JsonApi:
    """``/healthz`` and the ``/api/…`` handlers; ``create_app`` wires them to routes.

    FastAPI makes the OpenAPI operation ids from the method names: renaming one changes the
    published description.
    """

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    async def api_queue(
        self,
        *,
        analyst: Annotated[Analyst, Depends(api_analyst)],
        object_ref: Annotated[str | None, Query(alias="object", max_length=64)] = None,
        status: Status = "new",
        language: Annotated[str | None, Query(max_length=3)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        after: Annotated[str | None, Query(max_length=400)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        photos: bool = False,
    ) -> QueuePage:
        wanted = queue_filter(object_ref, status, language, limit, after, search=q, photos=photos)
        async with self.review.connection() as conn:
            return await api_store.queue_page(conn, wanted, analyst.name)

    async def api_tip(
        self, tip_id: str, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> TipDetail:
        detail = await find_tip(self.review, tip_id, analyst)
        if detail is None:
            raise StarletteHTTPException(404, "no such tip")
        return detail

    async def api_status(
        self,
        tip_id: str,
        change: StatusChangeIn,
        analyst: Annotated[Analyst, Depends(api_analyst)],
    ) -> StatusChangeResult:
        return await change_status(self.review, tip_id, analyst, change)

    async def api_consensus(
        self, object_ref: str, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> Consensus:
        valid(OBJECT_REF, object_ref, "no such object")
        async with self.review.connection() as conn:
            return await api_store.consensus(conn, object_ref)

    async def api_ops(
        self,
        analyst: Annotated[Analyst, Depends(api_analyst)],
        minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = 60,
    ) -> OpsSummary:
        async with self.review.connection() as conn:
            return await api_store.ops_summary(conn, minutes)

    async def api_openapi(
        self, request: Request, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> JSONResponse:
        return JSONResponse(request.app.openapi())
