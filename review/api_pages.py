"""The review app's server-rendered pages: queue, tip (with its status form), object, ops."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from review import api_store, console_store
from review.api_auth import Analyst
from review.api_context import ReviewContext, check_form, page_analyst
from review.api_models import StatusChangeIn
from review.api_queries import (
    CHANNELS,
    DEFAULT_PAGE,
    STATUSES,
    TRANSITIONS,
    Status,
    minute_table,
)
from review.api_steps import (
    MAX_MINUTES,
    OBJECT_REF,
    change_status,
    find_tip,
    queue_filter,
    valid,
)
from review.console_store import REASON_LABELS
from review.leads import consensus_choices, leads_for_object
from review.ops_charts import bar_chart
from review.urgent import urgent_tips

_KIND_HEADINGS: Final = {
    "country": "Countries named",
    "city": "Cities named",
    "shop": "Shops named",
    "brand": "Brands named",
    "product_id": "Product ids named",
    "photo": "Near-identical photos sent",
}


DONE_MESSAGES: Final = {
    "verdict": "Verdict recorded for this cluster.",
    "merged": "The clusters were merged.",
    "split": "The chosen tips now form a cluster of their own.",
    "released": "The cluster is back in the queue for anyone.",
}


class Pages:
    """The HTML pages an analyst browses; ``create_app`` wires them to routes."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    async def home(self, analyst: Annotated[Analyst, Depends(page_analyst)]) -> Response:
        return RedirectResponse("/queue", 303)

    async def queue_page(
        self,
        *,
        request: Request,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        object_ref: Annotated[str | None, Query(alias="object", max_length=64)] = None,
        status: Status = "new",
        language: Annotated[str | None, Query(max_length=3)] = None,
        after: Annotated[str | None, Query(max_length=400)] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        photos: Annotated[str, Query(max_length=3)] = "",
    ) -> HTMLResponse:
        # An empty text box arrives as "": that means "any", not "the object called ''".
        wanted = queue_filter(
            object_ref or None,
            status,
            language or None,
            DEFAULT_PAGE,
            after,
            search=q,
            photos=photos == "yes",
        )
        async with self.review.connection() as conn:
            page = await api_store.queue_page(conn, wanted, analyst.name)
            mine = await console_store.current_claim(conn, analyst.name)
            urgent = await urgent_tips(conn)
        filters = {"object": wanted.object_ref or "", "status": status}
        if wanted.language:
            filters["language"] = wanted.language
        if wanted.search:
            filters["q"] = wanted.search
        if wanted.photos:
            filters["photos"] = "yes"
        next_link = f"/queue?{urlencode({**filters, 'after': page.next})}" if page.next else None
        return self.review.render(
            "queue.html",
            analyst,
            page=page,
            urgent=urgent,
            wanted=wanted,
            statuses=STATUSES,
            next_link=next_link,
            first_link=f"/queue?{urlencode(filters)}" if after else None,
            mine=mine,
        )

    async def tip_page(
        self,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        changed: Annotated[int | None, Query(ge=0)] = None,
        done: Annotated[str | None, Query(max_length=40)] = None,
    ) -> HTMLResponse:
        detail = await find_tip(self.review, tip_id, analyst)
        if detail is None:
            raise StarletteHTTPException(404, "There is no tip with this id.")
        async with self.review.connection() as conn:
            unit = detail.cluster_id or f"tip:{detail.tip_id}"
            claim = await console_store.claim_of_unit(conn, unit)
            if claim is not None and claim.analyst == analyst.name:
                # Working on it keeps the lease alive; walking away lets it run out.
                claim = await console_store.renew(
                    conn, analyst.name, unit, self.review.claim_seconds
                )
        return self.review.render(
            "tip.html",
            analyst,
            tip=detail,
            next_statuses=sorted(TRANSITIONS[detail.status], key=STATUSES.index),
            changed=changed,
            done=DONE_MESSAGES.get(done or ""),
            claim=claim,
            reasons=REASON_LABELS,
        )

    async def tip_status_form(
        self,
        *,
        request: Request,
        tip_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        status: Annotated[Status, Form()],
        csrf: Annotated[str, Form(max_length=64)] = "",
        expected: Annotated[Status | None, Form()] = None,
        note: Annotated[str, Form(max_length=2000)] = "",
        cluster: Annotated[str, Form(max_length=8)] = "",
    ) -> Response:
        check_form(request, analyst, csrf)
        change = StatusChangeIn(
            status=status, note=note or None, cluster=cluster == "yes", expected=expected
        )
        result = await change_status(self.review, tip_id, analyst, change)
        return RedirectResponse(f"/tips/{tip_id}?changed={len(result.changed)}", 303)

    async def object_page(
        self, object_ref: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> HTMLResponse:
        valid(OBJECT_REF, object_ref, "There is no object with this id.")
        async with self.review.connection() as conn:
            found = await api_store.consensus(conn, object_ref)
            object_leads = await leads_for_object(conn, object_ref)
        groups: dict[str, list[Any]] = {}
        for item in found.items:
            groups.setdefault(item.kind, []).append(item)
        return self.review.render(
            "object.html",
            analyst,
            consensus=found,
            groups=[(_KIND_HEADINGS.get(k, k), items) for k, items in groups.items()],
            leads=object_leads,
            lead_choices=consensus_choices(found.items),
        )

    async def ops_page(
        self,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        minutes: Annotated[int, Query(ge=1, le=MAX_MINUTES)] = 60,
    ) -> HTMLResponse:
        async with self.review.connection() as conn:
            summary = await api_store.ops_summary(conn, minutes)
            since = summary.now - timedelta(minutes=minutes)
            lag = {
                m.astimezone(UTC): n
                for m, n in (await api_store.ops_lag_per_minute(conn, since)).items()
            }
            by_reason = await api_store.dead_letters_by_reason(conn, since)
            letters = await api_store.latest_dead_letters(conn, since)
        table = minute_table(
            [r.model_dump() for r in summary.throughput], summary.now, summary.minutes
        )
        oldest_first = table[::-1]
        charts = (
            bar_chart(
                [(f"{r.minute:%H:%M}", float(r.total)) for r in oldest_first],
                title="Tips stored per minute",
                unit="tips",
            ),
            bar_chart(
                [(f"{r.minute:%H:%M}", r.mean_delay_s) for r in oldest_first],
                title="Mean delay from receipt to database, live channels",
                unit="s",
            ),
            # A minute without a sample (no worker running) draws no bar, unlike a zero lag.
            bar_chart(
                [(f"{r.minute:%H:%M}", _as_float(lag.get(r.minute))) for r in oldest_first],
                title="Highest consumer lag per minute, all topics",
                unit="records",
            ),
        )
        return self.review.render(
            "ops.html",
            analyst,
            summary=summary,
            table=table,
            channels=CHANNELS,
            charts=charts,
            dead_by_reason=by_reason,
            dead_letters=letters,
        )


def _as_float(value: int | None) -> float | None:
    return None if value is None else float(value)
