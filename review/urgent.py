"""The urgent view: open tips flagged by ``processors/urgent.py``, above everything else.

A child in danger now, a named victim or offender: these are shown at the top of the queue
page (the five newest) and in full at ``/urgent`` and ``/api/urgent``, newest first, so they
are never buried under object tips however many arrive. One partial index (``tips_urgent``)
serves the query.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from review.api_auth import Analyst
from review.api_context import ReviewContext, api_analyst, page_analyst
from review.api_queries import short_text

Conn = AsyncConnection[Any]
_URGENT: Final = """
SELECT tip_id, object_ref, language, score, received_at, status, subject, left(body, 400) AS body,
       (SELECT r ->> 'text' FROM jsonb_array_elements(reasons) r
        WHERE r ->> 'feature' = 'urgent' LIMIT 1) AS why
FROM tips
WHERE reasons @> '[{"feature": "urgent"}]' AND status IN ('new', 'reviewing')
ORDER BY received_at DESC, tip_id
LIMIT %s
"""


async def urgent_tips(conn: Conn, limit: int = 5) -> list[dict[str, Any]]:
    """The newest open urgent tips, each with its one-line text and why it is urgent."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_URGENT, (limit,))
        rows = await cur.fetchall()
    for row in rows:
        row["text"] = short_text(row.pop("subject"), row.pop("body"))
    return rows


class UrgentView:
    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    async def page(self, analyst: Annotated[Analyst, Depends(page_analyst)]) -> HTMLResponse:
        async with self.review.connection() as conn:
            urgent = await urgent_tips(conn, limit=200)
        return self.review.render("urgent.html", analyst, urgent=urgent, full=True)

    async def api(
        self,
        analyst: Annotated[Analyst, Depends(api_analyst)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[dict[str, Any]]:
        async with self.review.connection() as conn:
            return await urgent_tips(conn, limit=limit)
