"""Steps the JSON API and the pages share: id checks, the queue filter, reading and moving tips."""

from __future__ import annotations

import logging
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from review import api_store, console_store
from review.api_auth import Analyst
from review.api_context import ReviewContext
from review.api_models import StatusChangeIn, StatusChangeResult, TipDetail
from review.api_queries import CursorError, QueueCursor, QueueFilter, Status
from review.api_store import StatusConflictError, StatusRequest
from schemas.tip import LanguageCode, ObjectRef, TipId

log = logging.getLogger(__name__)

MAX_MINUTES: Final = 24 * 60
TIP_ID: Final = TypeAdapter(TipId)
OBJECT_REF: Final = TypeAdapter(ObjectRef)
_LANGUAGE: Final = TypeAdapter(LanguageCode)


def valid(adapter: TypeAdapter[Any], value: str, not_found: str) -> None:
    # An id that cannot exist is answered like one that does not: 404, no parser message.
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        raise StarletteHTTPException(404, not_found) from exc


def queue_filter(
    object_ref: str | None,
    status: Status,
    language: str | None,
    limit: int,
    after: str | None,
    *,
    search: str | None = None,
    photos: bool = False,
) -> QueueFilter:
    try:
        if object_ref is not None:
            OBJECT_REF.validate_python(object_ref)
        if language is not None:
            _LANGUAGE.validate_python(language)
    except ValidationError as exc:
        raise StarletteHTTPException(422, "object or language is not a valid id") from exc
    try:
        cursor = QueueCursor.decode(after) if after else None
    except CursorError as exc:
        raise StarletteHTTPException(400, "after: not a cursor from this queue") from exc
    search = " ".join(search.split()) if search else None
    return QueueFilter(
        status=status,
        object_ref=object_ref,
        language=language,
        limit=limit,
        after=cursor,
        search=search or None,
        photos=photos,
    )


async def find_tip(review: ReviewContext, tip_id: str, analyst: Analyst) -> TipDetail | None:
    """The tip, its cluster and history; every read of a tip body is an audit row."""
    try:
        TIP_ID.validate_python(tip_id)
    except ValidationError:
        return None
    async with review.connection() as conn:
        detail = await api_store.tip_detail(conn, tip_id)
        if detail is not None:
            await console_store.audit(
                conn, analyst.name, "view", tip_id=tip_id, cluster_id=detail.cluster_id
            )
        return detail


async def change_status(
    review: ReviewContext, tip_id: str, analyst: Analyst, change: StatusChangeIn
) -> StatusChangeResult:
    valid(TIP_ID, tip_id, "no such tip")
    request = StatusRequest(
        tip_id=tip_id,
        status=change.status,
        analyst=analyst.name,
        note=change.note,
        cluster=change.cluster,
        expected=change.expected,
    )
    async with review.connection() as conn:
        try:
            result = await api_store.change_status(conn, request)
        except StatusConflictError as exc:
            raise StarletteHTTPException(409, str(exc)) from exc
        if result is not None:
            await console_store.audit(
                conn,
                analyst.name,
                "status",
                tip_id=tip_id,
                detail={"status": result.status, "tips": len(result.changed)},
            )
    if result is None:
        raise StarletteHTTPException(404, "no such tip")
    log.info(
        "analyst %s moved %d tip(s) to %s (%s, %d skipped)",
        analyst.name,
        len(result.changed),
        result.status,
        tip_id,
        len(result.skipped),
    )
    return result
