"""The review app's database reads and its one write (status changes), over a connection pool.

Every function takes an open ``AsyncConnection`` so the caller decides pooling and
transactions; the SQL for the queue comes from ``review.api_queries``. Status changes lock
the rows they touch in tip-id order, so two analysts changing overlapping clusters at once
wait for each other instead of deadlocking, and the audit rows commit with the change or not
at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from review.api_models import (
    ClusterMember,
    Consensus,
    ConsensusItem,
    OpsSummary,
    QueueItem,
    QueuePage,
    StatusChangeOut,
    StatusChangeResult,
    ThroughputRow,
    TipDetail,
)
from review.api_queries import (
    QueueFilter,
    Status,
    can_change,
    page_of,
    queue_query,
    short_text,
    tipster_label,
)
from schemas import ScoredTip
from store import ops as store_ops

Conn = AsyncConnection[Any]
MAX_MEMBERS: Final = 200
KIND_ORDER: Final = ("country", "city", "shop", "brand", "product_id", "photo")


class StatusConflictError(Exception):
    """The change does not apply: the tip moved meanwhile, or the step is not allowed."""


async def _rows(conn: Conn, sql: str, params: Mapping[str, Any] | tuple[Any, ...]) -> list[Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall()


def _queue_item(row: Mapping[str, Any]) -> QueueItem:
    return QueueItem(
        tip_id=row["tip_id"],
        object_ref=row["object_ref"],
        language=row["language"],
        score=row["score"],
        reasons=row["reasons"],
        evidence=row["evidence"],
        cluster_size=row["cluster_size"],
        independent_tipsters=row["independent_tipsters"],
        received_at=row["received_at"],
        status=row["status"],
        channel=row["channel"],
        tipster=tipster_label(row["sender_key"]),
        text=short_text(row["subject"], row["body"]),
        photos=row.get("photos") or 0,
        claimed_by=row.get("claimed_by"),
    )


async def queue_page(conn: Conn, wanted: QueueFilter, analyst: str) -> QueuePage:
    """One queue page; its lines show the start of tip bodies, so the page is an audit row."""
    sql, params = queue_query(wanted)
    page, cursor = page_of(await _rows(conn, sql, params), wanted.limit)
    await conn.execute(
        "INSERT INTO audit_events (analyst, action, detail) VALUES (%s, 'queue', %s)",
        (analyst, Jsonb({"tips": [r["tip_id"] for r in page]})),
    )
    return QueuePage(
        items=tuple(_queue_item(r) for r in page), next=cursor.encode() if cursor else None
    )


_TIP: Final = """
SELECT t.record, t.status, t.ingested_at, t.reviewed_at, t.reviewed_by, t.cluster_id,
       t.sealed_contact,
       coalesce(c.size, 1) AS cluster_size, coalesce(c.distinct_senders, 1) AS independent_tipsters
FROM tips t LEFT JOIN clusters c ON c.cluster_id = t.cluster_id
WHERE t.tip_id = %s
"""
_MEMBERS: Final = """
SELECT tip_id, score, status, language, received_at, sender_key, duplicate_of, similarity,
       subject, left(body, 400) AS body
FROM tips WHERE cluster_id = %s
ORDER BY score DESC, received_at, tip_id
LIMIT %s
"""
_HISTORY: Final = """
SELECT change_id::text AS change_id, tip_id, from_status, to_status, analyst, changed_at,
       cluster_wide, note
FROM status_changes WHERE tip_id = %s ORDER BY changed_at, id
"""


async def tip_detail(conn: Conn, tip_id: str) -> TipDetail | None:
    found = await _rows(conn, _TIP, (tip_id,))
    if not found:
        return None
    row = found[0]
    # The record is the ScoredTip exactly as the sink received it: the contract, validated.
    tip = ScoredTip.model_validate(row["record"])
    members: list[ClusterMember] = []
    if row["cluster_id"] is not None:
        for m in await _rows(conn, _MEMBERS, (row["cluster_id"], MAX_MEMBERS)):
            members.append(
                ClusterMember(
                    tip_id=m["tip_id"],
                    score=m["score"],
                    status=m["status"],
                    language=m["language"],
                    received_at=m["received_at"],
                    tipster=tipster_label(m["sender_key"]),
                    duplicate_of=m["duplicate_of"],
                    similarity=m["similarity"],
                    text=short_text(m["subject"], m["body"]),
                )
            )
    history = [StatusChangeOut(**h) for h in await _rows(conn, _HISTORY, (tip_id,))]
    return TipDetail(
        tip_id=tip.tip_id,
        sealed_contact=row["sealed_contact"],
        object_ref=tip.object_ref,
        object_refs=tip.object_refs,
        channel=tip.channel,
        received_at=tip.received_at,
        ingested_at=row["ingested_at"],
        subject=tip.subject,
        body=tip.body,
        language=tip.language,
        language_confidence=tip.language_confidence,
        tipster=tipster_label(tip.sender_key),
        redactions=tip.redactions,
        attachments=tip.attachments,
        evidence=tip.evidence,
        corroboration=tip.corroboration,
        score=tip.score,
        score_version=tip.score_version,
        reasons=tip.reasons,
        status=row["status"],
        reviewed_at=row["reviewed_at"],
        reviewed_by=row["reviewed_by"],
        cluster_id=row["cluster_id"],
        cluster_size=row["cluster_size"],
        independent_tipsters=row["independent_tipsters"],
        members=tuple(members),
        history=tuple(history),
    )


@dataclass(frozen=True)
class StatusRequest:
    tip_id: str
    status: Status
    analyst: str
    note: str | None = None
    cluster: bool = False
    expected: Status | None = None


async def change_status(conn: Conn, req: StatusRequest) -> StatusChangeResult | None:
    """Apply a status change and audit it, atomically; None if the tip does not exist.

    Raises StatusConflictError when the tip itself cannot make the change (someone moved it
    since the analyst looked, or the step is not allowed). Cluster members that cannot make it
    are skipped and reported, so a bulk change never overrides another analyst's decision.
    """
    note = req.note.strip() if req.note and req.note.strip() else None
    async with conn.transaction():
        head = await _rows(conn, "SELECT cluster_id FROM tips WHERE tip_id = %s", (req.tip_id,))
        if not head:
            return None
        cluster_id = head[0]["cluster_id"]
        if req.cluster and cluster_id is not None:
            locked = await _rows(
                conn,
                "SELECT tip_id, status FROM tips WHERE tip_id = %s OR cluster_id = %s"
                " ORDER BY tip_id FOR UPDATE",
                (req.tip_id, cluster_id),
            )
        else:
            locked = await _rows(
                conn, "SELECT tip_id, status FROM tips WHERE tip_id = %s FOR UPDATE", (req.tip_id,)
            )
        current = {r["tip_id"]: r["status"] for r in locked}
        own = current[req.tip_id]
        if req.expected is not None and own != req.expected:
            raise StatusConflictError(f"the tip is now {own!r}, not {req.expected!r}")
        if not can_change(own, req.status):
            raise StatusConflictError(f"a {own!r} tip cannot become {req.status!r}")
        changed = [tid for tid, status in current.items() if can_change(status, req.status)]
        skipped = [tid for tid in current if tid not in changed]
        change_id = uuid.uuid4()
        async with conn.cursor() as cur:
            await cur.execute(
                "UPDATE tips SET status = %s, reviewed_at = now(), reviewed_by = %s"
                " WHERE tip_id = ANY(%s)",
                (req.status, req.analyst, changed),
            )
            await cur.executemany(
                "INSERT INTO status_changes (change_id, tip_id, from_status, to_status, analyst,"
                " cluster_wide, note) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (change_id, tid, current[tid], req.status, req.analyst, req.cluster, note)
                    for tid in changed
                ],
            )
    return StatusChangeResult(
        change_id=str(change_id), status=req.status, changed=tuple(changed), skipped=tuple(skipped)
    )


_CONSENSUS: Final = """
SELECT kind, value, tipsters, tips, best_tip_id, best_score, reach, picture
FROM object_consensus WHERE object_ref = %s
ORDER BY array_position(%s::text[], kind), tipsters DESC, tips DESC, value
"""
_OBJECT_SUMMARY: Final = """
SELECT count(*) AS tips,
       count(DISTINCT coalesce(cluster_id, 'tip:' || tip_id)) AS clusters,
       count(DISTINCT coalesce(sender_key, 'tip:' || tip_id)) AS tipsters,
       count(*) FILTER (WHERE record -> 'reshared_pictures' <> '[]'::jsonb) AS reshared
FROM tips WHERE object_ref = %s
"""


def _consensus_item(row: dict[str, Any]) -> ConsensusItem:
    """A view row; its ``reach`` (Evidence.reach of the newest tip, or null) becomes two fields."""
    reach = row.pop("reach", None) or {}
    return ConsensusItem(
        **row, countries=tuple(reach.get("countries", ())), spread=int(reach.get("spread", 0))
    )


async def consensus(conn: Conn, object_ref: str) -> Consensus:
    summary = (await _rows(conn, _OBJECT_SUMMARY, (object_ref,)))[0]
    items = await _rows(conn, _CONSENSUS, (object_ref, list(KIND_ORDER)))
    return Consensus(
        object_ref=object_ref,
        tips=summary["tips"],
        clusters=summary["clusters"],
        tipsters=summary["tipsters"],
        reshared=summary["reshared"],
        items=tuple(_consensus_item(i) for i in items),
    )


# The throughput_per_minute view's own grouping, over the window only: a filter on the view's
# minute column cannot use the ingested_at index, so the view scans every tip ever stored
# (120 ms at 200k tips and growing). The integration test checks both agree row for row.
_THROUGHPUT: Final = """
SELECT date_trunc('minute', ingested_at) AS minute,
       channel,
       count(*) AS tips,
       -- An imported tip's received_at is when the partner got it, maybe years ago: the delay
       -- through the pipeline is measured on live channels only.
       avg(extract(epoch FROM ingested_at - received_at))
           FILTER (WHERE channel <> 'import')::real AS mean_delay_s
FROM tips
WHERE ingested_at >= date_trunc('minute', %(now)s::timestamptz)
                     - make_interval(mins => %(minutes)s - 1)
GROUP BY 1, 2
ORDER BY minute DESC, channel
"""
_BY_STATUS: Final = "SELECT status, count(*) AS n FROM tips GROUP BY status"
# Waiting since it reached the database (ingested_at): an import's received_at is historical.
_OLDEST_NEW: Final = "SELECT min(ingested_at) AS oldest FROM tips WHERE status = 'new'"


async def ops_summary(conn: Conn, minutes: int) -> OpsSummary:
    now: datetime = (await _rows(conn, "SELECT now() AS now", ()))[0]["now"]
    rows = await _rows(conn, _THROUGHPUT, {"now": now, "minutes": minutes})
    by_status = {r["status"]: r["n"] for r in await _rows(conn, _BY_STATUS, ())}
    oldest = (await _rows(conn, _OLDEST_NEW, ()))[0]["oldest"]
    return OpsSummary(
        minutes=minutes,
        now=now,
        throughput=tuple(ThroughputRow(**r) for r in rows),
        by_status={s: by_status.get(s, 0) for s in ("new", "reviewing", "lead", "dismissed")},
        oldest_new_age_s=(now - oldest).total_seconds() if oldest is not None else None,
    )


async def media_type_of(conn: Conn, sha256: str) -> str | None:
    """The media type some stored tip gives this image, or None if no tip names it."""
    found = await _rows(
        conn,
        "SELECT a ->> 'media_type' AS media_type"
        " FROM tips, jsonb_array_elements(attachments) a"
        " WHERE attachments @> %s AND a ->> 'sha256' = %s LIMIT 1",
        (Jsonb([{"sha256": sha256}]), sha256),
    )
    return str(found[0]["media_type"]) if found else None


async def ops_lag_per_minute(conn: Conn, since: datetime) -> dict[datetime, int]:
    """The highest total consumer lag the workers recorded in each minute since ``since``."""
    rows = await _rows(conn, store_ops.LAG_PER_MINUTE, {"since": since})
    return {r["minute"]: int(r["lag"]) for r in rows}


async def dead_letters_by_reason(conn: Conn, since: datetime) -> list[store_ops.ReasonCount]:
    rows = await _rows(conn, store_ops.BY_REASON, {"since": since})
    return [store_ops.ReasonCount(**r) for r in rows]


async def latest_dead_letters(
    conn: Conn, since: datetime, limit: int = 50
) -> list[store_ops.LetterRow]:
    rows = await _rows(conn, store_ops.LATEST_LETTERS, {"since": since, "limit": limit})
    return [store_ops.LetterRow(**r) for r in rows]
