"""The console's database steps: sessions, the audit, claims, verdicts, merge and split.

Every function takes an open ``AsyncConnection`` (autocommit) and opens its own transaction
where it writes more than one row, so a decision and its audit rows commit together or not at
all. A "unit" is what one analyst works at a time: a cluster (its id) or a tip alone
(``tip:<tip_id>``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, get_args

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from review.accounts import Role
from review.api_auth import Analyst

Conn = AsyncConnection[Any]

Reason = Literal["lead", "not_relevant", "duplicate", "needs_follow_up", "urgent"]
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)
REASON_LABELS: Final[Mapping[Reason, str]] = {
    "lead": "Lead: worth passing on",
    "urgent": "Urgent: a child in danger, a victim or offender named",
    "needs_follow_up": "Needs follow-up: ask or check more",
    "duplicate": "Duplicate of a tip already handled",
    "not_relevant": "Not relevant",
}
# The tip status a verdict leaves its unit's open tips in.
VERDICT_STATUS: Final[Mapping[Reason, str]] = {
    "lead": "lead",
    "urgent": "lead",
    "needs_follow_up": "reviewing",
    "duplicate": "dismissed",
    "not_relevant": "dismissed",
}
UNIT_SQL: Final = "coalesce({a}.cluster_id, 'tip:' || {a}.tip_id)"


class ConsoleConflictError(Exception):
    """The step does not apply (claimed by someone else, nothing open, a bad merge or split)."""


async def _rows(conn: Conn, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        return await cur.fetchall() if cur.description else []


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


# --- accounts and sessions -----------------------------------------------------------------


async def account(conn: Conn, name: str) -> tuple[Role, str, bool] | None:
    """(role, password hash, disabled) of an account, or None."""
    found = await _rows(
        conn,
        "SELECT role, password_hash, disabled_at IS NOT NULL AS disabled"
        " FROM analysts WHERE name = %s",
        (name,),
    )
    return (found[0]["role"], found[0]["password_hash"], found[0]["disabled"]) if found else None


async def open_session(
    conn: Conn, name: str, role: Role, via: str, seconds: float
) -> tuple[str, Analyst]:
    """A new session: the cookie value (random id) and the analyst it stands for."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO review_sessions (id_hash, analyst, role, via, csrf, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))",
        (_digest(session_id), name, role, via, csrf, seconds),
    )
    await audit(conn, name, "login", detail={"via": via})
    return session_id, Analyst(name=name, role=role, csrf=csrf)


async def session(conn: Conn, session_id: str) -> Analyst | None:
    """The live session of a cookie: unexpired, unrevoked, and its account not disabled."""
    found = await _rows(
        conn,
        "SELECT s.analyst, s.role, s.csrf FROM review_sessions s"
        " LEFT JOIN analysts a ON a.name = s.analyst"
        " WHERE s.id_hash = %s AND s.revoked_at IS NULL AND s.expires_at > now()"
        "   AND (s.via = 'token' OR (a.name IS NOT NULL AND a.disabled_at IS NULL))",
        (_digest(session_id),),
    )
    if not found:
        return None
    row = found[0]
    return Analyst(name=row["analyst"], role=row["role"], csrf=row["csrf"])


async def close_session(conn: Conn, session_id: str, name: str) -> None:
    await conn.execute(
        "UPDATE review_sessions SET revoked_at = now() WHERE id_hash = %s AND revoked_at IS NULL",
        (_digest(session_id),),
    )
    await audit(conn, name, "logout")


# --- audit -----------------------------------------------------------------------------------


async def audit(
    conn: Conn,
    analyst: str,
    action: str,
    *,
    tip_id: str | None = None,
    cluster_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO audit_events (analyst, action, tip_id, cluster_id, detail)"
        " VALUES (%s, %s, %s, %s, %s)",
        (analyst, action, tip_id, cluster_id, Jsonb(dict(detail or {}))),
    )


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    analyst: str
    action: str
    tip_id: str | None
    cluster_id: str | None
    detail: Mapping[str, Any]


async def recent_audit(conn: Conn, limit: int = 200) -> list[AuditRow]:
    rows = await _rows(
        conn,
        "SELECT at, analyst, action, tip_id, cluster_id, detail FROM audit_events"
        " ORDER BY id DESC LIMIT %s",
        (limit,),
    )
    return [AuditRow(**r) for r in rows]


# --- claims ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    unit: str
    tip_id: str
    analyst: str
    expires_at: datetime


_CLAIM_NEXT: Final = f"""
WITH pick AS (
    SELECT t.tip_id, {UNIT_SQL.format(a="t")} AS unit
    FROM tips t
    WHERE t.status = 'new'{{object_filter}}
      AND NOT EXISTS (
          SELECT 1 FROM claims c
          WHERE c.unit = {UNIT_SQL.format(a="t")} AND c.expires_at > now())
    -- Tips about an identified or retired object come last (index tips_queue_keyset).
    ORDER BY t.object_closed, t.score DESC, t.received_at, t.tip_id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
), claimed AS (
    INSERT INTO claims (unit, analyst, tip_id, claimed_at, expires_at)
    SELECT unit, %(analyst)s, tip_id, now(), now() + make_interval(secs => %(seconds)s)
    FROM pick
    ON CONFLICT (unit) DO UPDATE
        SET analyst = excluded.analyst, tip_id = excluded.tip_id,
            claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
        WHERE claims.expires_at <= now()
    RETURNING unit, tip_id, analyst, expires_at
), audited AS (
    -- The audit row in the same statement: one round trip, and it commits with the claim.
    INSERT INTO audit_events (analyst, action, tip_id, cluster_id)
    SELECT analyst, 'claim', tip_id, unit FROM claimed
)
SELECT unit, tip_id, analyst, expires_at FROM claimed
"""  # noqa: S608 - fixed fragments only


_OPEN_UNCLAIMED: Final = f"""
SELECT 1 FROM tips t
WHERE t.status = 'new'{{object_filter}}
  AND NOT EXISTS (
      SELECT 1 FROM claims c WHERE c.unit = {UNIT_SQL.format(a="t")} AND c.expires_at > now())
LIMIT 1
"""  # noqa: S608 - fixed fragments only


def _object_filter(object_ref: str | None) -> str:
    return "\n      AND t.object_ref = %(object_ref)s" if object_ref else ""


async def current_claim(conn: Conn, analyst: str) -> Claim | None:
    found = await _rows(
        conn,
        "SELECT unit, tip_id, analyst, expires_at FROM claims"
        " WHERE analyst = %s AND expires_at > now() ORDER BY claimed_at DESC LIMIT 1",
        (analyst,),
    )
    return Claim(**found[0]) if found else None


async def claim_next(
    conn: Conn, analyst: str, seconds: float, object_ref: str | None = None
) -> Claim | None:
    """The analyst's open claim (lease renewed), else the best unclaimed open unit, or None.

    ``FOR UPDATE SKIP LOCKED`` keeps two analysts asking at once off the same candidate row;
    the claims table's key keeps them off the same unit (a loser of that race tries again).
    """
    mine = await current_claim(conn, analyst)
    if mine is not None and (object_ref is None or await _unit_is_about(conn, mine, object_ref)):
        return await renew(conn, analyst, mine.unit, seconds) or mine
    sql = _CLAIM_NEXT.format(object_filter=_object_filter(object_ref))
    params = {"analyst": analyst, "seconds": seconds, "object_ref": object_ref}
    for _attempt in range(5):
        # One statement (autocommit): the row locks last only while it runs.
        found = await _rows(conn, sql, params)
        if found:
            return Claim(**found[0])
        # Nothing picked: either nothing is open and unclaimed, or another analyst took the
        # same unit a moment ago through another of its tips; only the second is worth a retry.
        if not await _rows(
            conn, _OPEN_UNCLAIMED.format(object_filter=_object_filter(object_ref)), params
        ):
            return None
    return None


async def _unit_is_about(conn: Conn, claim: Claim, object_ref: str) -> bool:
    found = await _rows(conn, "SELECT object_ref FROM tips WHERE tip_id = %s", (claim.tip_id,))
    return bool(found) and found[0]["object_ref"] == object_ref


async def renew(conn: Conn, analyst: str, unit: str, seconds: float) -> Claim | None:
    found = await _rows(
        conn,
        "UPDATE claims SET expires_at = now() + make_interval(secs => %s)"
        " WHERE unit = %s AND analyst = %s AND expires_at > now()"
        " RETURNING unit, tip_id, analyst, expires_at",
        (seconds, unit, analyst),
    )
    return Claim(**found[0]) if found else None


async def claim_of_unit(conn: Conn, unit: str) -> Claim | None:
    found = await _rows(
        conn,
        "SELECT unit, tip_id, analyst, expires_at FROM claims"
        " WHERE unit = %s AND expires_at > now()",
        (unit,),
    )
    return Claim(**found[0]) if found else None


async def release(conn: Conn, analyst: Analyst, unit: str) -> bool:
    """Hand a unit back to the queue: one's own claim, or anyone's for a supervisor."""
    async with conn.transaction():
        found = await _rows(
            conn,
            "DELETE FROM claims WHERE unit = %s AND (analyst = %s OR %s) RETURNING tip_id, analyst",
            (unit, analyst.name, analyst.role == "supervisor"),
        )
        if found:
            await audit(
                conn,
                analyst.name,
                "release",
                tip_id=found[0]["tip_id"],
                cluster_id=unit,
                detail={"claimed_by": found[0]["analyst"]},
            )
    return bool(found)


async def unit_of(conn: Conn, tip_id: str) -> str | None:
    found = await _rows(
        conn,
        f"SELECT {UNIT_SQL.format(a='t')} AS unit FROM tips t WHERE tip_id = %s",  # noqa: S608
        (tip_id,),
    )
    return str(found[0]["unit"]) if found else None


# --- verdicts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictResult:
    unit: str
    reason: Reason
    status: str
    tips: tuple[str, ...]


async def give_verdict(
    conn: Conn, analyst: Analyst, tip_id: str, reason: Reason, note: str | None
) -> VerdictResult:
    """Decide a tip's whole unit: its open tips (new, reviewing) take the verdict's status.

    Finished tips of the unit are left as they are. Refused while another analyst holds the
    unit's claim. The claim ends with the verdict; status_changes, verdicts and the audit get
    their rows in the same transaction.
    """
    note = note.strip() if note and note.strip() else None
    status = VERDICT_STATUS[reason]
    async with conn.transaction():
        unit = await unit_of(conn, tip_id)
        if unit is None:
            raise ConsoleConflictError("there is no such tip")
        holder = await claim_of_unit(conn, unit)
        if holder is not None and holder.analyst != analyst.name:
            raise ConsoleConflictError(f"{holder.analyst} is working on this cluster")
        if unit.startswith("tip:"):
            where, key = "tip_id = %s", tip_id
        else:
            where, key = "cluster_id = %s", unit
        locked = await _rows(
            conn,
            f"SELECT tip_id, status FROM tips WHERE {where}"  # noqa: S608 - fixed fragments
            " AND status IN ('new', 'reviewing') ORDER BY tip_id FOR UPDATE",
            (key,),
        )
        if not locked:
            raise ConsoleConflictError("this cluster has no open tip left to decide")
        ids = [r["tip_id"] for r in locked]
        change_id = uuid.uuid4()
        await conn.execute(
            "UPDATE tips SET status = %s, reviewed_at = now(), reviewed_by = %s"
            " WHERE tip_id = ANY(%s)",
            (status, analyst.name, ids),
        )
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO status_changes (change_id, tip_id, from_status, to_status, analyst,"
                " cluster_wide, note) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        change_id,
                        r["tip_id"],
                        r["status"],
                        status,
                        analyst.name,
                        len(ids) > 1,
                        f"verdict {reason}" + (f": {note}" if note else ""),
                    )
                    for r in locked
                ],
            )
        await conn.execute(
            "INSERT INTO verdicts (unit, tip_id, analyst, reason, note, tips)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (unit, tip_id, analyst.name, reason, note, len(ids)),
        )
        await conn.execute("DELETE FROM claims WHERE unit = %s", (unit,))
        await audit(
            conn,
            analyst.name,
            "verdict",
            tip_id=tip_id,
            cluster_id=unit,
            detail={"reason": reason, "tips": len(ids), "status": status},
        )
    return VerdictResult(unit=unit, reason=reason, status=status, tips=tuple(ids))


# --- merge and split -------------------------------------------------------------------------

_REFIGURE: Final = """
INSERT INTO clusters (cluster_id, object_ref, representative_tip_id, size, distinct_senders,
                      max_score, first_seen, last_seen)
SELECT %(cluster)s,
       (array_agg(object_ref ORDER BY score DESC, received_at, tip_id))[1],
       (array_agg(tip_id ORDER BY score DESC, received_at, tip_id))[1],
       count(*), count(DISTINCT coalesce(sender_key, 'tip:' || tip_id)), max(score),
       min(received_at), max(received_at)
FROM tips WHERE cluster_id = %(cluster)s
HAVING count(*) > 0
ON CONFLICT (cluster_id) DO UPDATE SET
    object_ref = excluded.object_ref, representative_tip_id = excluded.representative_tip_id,
    size = excluded.size, distinct_senders = excluded.distinct_senders,
    max_score = excluded.max_score, first_seen = excluded.first_seen,
    last_seen = excluded.last_seen
"""


async def _refigure(conn: Conn, cluster_ids: Sequence[str]) -> None:
    """Cluster figures from the rows themselves, so a merge or split leaves none stale."""
    for cluster_id in cluster_ids:
        await conn.execute(_REFIGURE, {"cluster": cluster_id})
        await conn.execute(
            "DELETE FROM clusters c WHERE c.cluster_id = %s"
            " AND NOT EXISTS (SELECT 1 FROM tips t WHERE t.cluster_id = c.cluster_id)",
            (cluster_id,),
        )


async def _redirect(conn: Conn, analyst: str, source: str, target: str) -> None:
    """Tips the machine still puts in ``source`` (or in a cluster merged into it) go to
    ``target`` from now on: the sink reads ``cluster_redirects`` (store/sink.py)."""
    await conn.execute("DELETE FROM cluster_redirects WHERE from_cluster_id = %s", (target,))
    await conn.execute(
        "UPDATE cluster_redirects SET cluster_id = %s, analyst = %s, at = now()"
        " WHERE cluster_id = %s",
        (target, analyst, source),
    )
    await conn.execute(
        "INSERT INTO cluster_redirects (from_cluster_id, cluster_id, analyst) VALUES (%s, %s, %s)"
        " ON CONFLICT (from_cluster_id) DO UPDATE"
        " SET cluster_id = excluded.cluster_id, analyst = excluded.analyst, at = now()",
        (source, target, analyst),
    )


@dataclass(frozen=True)
class MoveResult:
    cluster_id: str
    moved: tuple[str, ...]


async def merge(conn: Conn, analyst: Analyst, into_tip: str, other_tip: str) -> MoveResult:
    """Put the other tip's whole cluster (or the tip alone) into ``into_tip``'s cluster."""
    async with conn.transaction():
        found = await _rows(
            conn,
            "SELECT tip_id, cluster_id FROM tips WHERE tip_id = ANY(%s) ORDER BY tip_id FOR UPDATE",
            ([into_tip, other_tip],),
        )
        by_id = {r["tip_id"]: r["cluster_id"] for r in found}
        if into_tip not in by_id or other_tip not in by_id:
            raise ConsoleConflictError("there is no such tip")
        target, source = by_id[into_tip], by_id[other_tip]
        if target is not None and target == source:
            raise ConsoleConflictError("both tips are already in the same cluster")
        if target is None:
            # A tip alone becomes a cluster of its own first, made by an analyst ("a-").
            target = f"a-{uuid.uuid4().hex}"
            await conn.execute(
                "UPDATE tips SET cluster_id = %s, cluster_by_analyst = true WHERE tip_id = %s",
                (target, into_tip),
            )
        moving = await _rows(
            conn,
            "UPDATE tips SET cluster_id = %s, cluster_by_analyst = true WHERE "  # noqa: S608
            + ("cluster_id = %s" if source is not None else "tip_id = %s")
            + " RETURNING tip_id",
            (target, source if source is not None else other_tip),
        )
        moved = tuple(sorted(r["tip_id"] for r in moving))
        if source is not None:
            await _redirect(conn, analyst.name, source, target)
        await _refigure(conn, [target] + ([source] if source else []))
        old_units = [source or f"tip:{other_tip}", f"tip:{into_tip}"]
        await conn.execute("DELETE FROM claims WHERE unit = ANY(%s)", (old_units,))
        await audit(
            conn,
            analyst.name,
            "merge",
            tip_id=into_tip,
            cluster_id=target,
            detail={"from_cluster": source, "tips": list(moved)},
        )
    return MoveResult(cluster_id=target, moved=moved)


async def split(conn: Conn, analyst: Analyst, tip_id: str, members: Sequence[str]) -> MoveResult:
    """Move ``members`` of ``tip_id``'s cluster into a new cluster of their own."""
    wanted = sorted(set(members))
    async with conn.transaction():
        head = await _rows(conn, "SELECT cluster_id FROM tips WHERE tip_id = %s", (tip_id,))
        if not head or head[0]["cluster_id"] is None:
            raise ConsoleConflictError("this tip is not in a cluster")
        cluster_id = head[0]["cluster_id"]
        locked = await _rows(
            conn,
            "SELECT tip_id FROM tips WHERE cluster_id = %s ORDER BY tip_id FOR UPDATE",
            (cluster_id,),
        )
        current = {r["tip_id"] for r in locked}
        if not wanted or not set(wanted) <= current:
            raise ConsoleConflictError("choose tips of this cluster to split off")
        if set(wanted) == current:
            raise ConsoleConflictError("at least one tip must stay in the cluster")
        new_id = f"s-{uuid.uuid4().hex}"
        await conn.execute(
            "UPDATE tips SET cluster_id = %s, cluster_by_analyst = true WHERE tip_id = ANY(%s)",
            (new_id, wanted),
        )
        await _refigure(conn, [cluster_id, new_id])
        await audit(
            conn,
            analyst.name,
            "split",
            tip_id=tip_id,
            cluster_id=cluster_id,
            detail={"to_cluster": new_id, "tips": wanted},
        )
    return MoveResult(cluster_id=new_id, moved=tuple(wanted))


# --- one line per claim, across languages -------------------------------------------------------


@dataclass(frozen=True)
class NamedLine:
    """Tips naming the same shops and cities for one object, in whatever language."""

    object_ref: str | None
    shops: tuple[str, ...]
    cities: tuple[str, ...]
    countries: tuple[str, ...]
    tips: int
    tipsters: int
    languages: tuple[str, ...]
    best_score: int
    best_tip_id: str
    photos: int


# The lines are kept by the database as tips come and change (migration 063: claim_lines and
# its member counts); a page reads at most ``limit`` of them. The order: best score, then
# independent tipsters, then the shops.
_NAMED_LINES: Final = """
SELECT l.object_ref, l.shops, l.cities, l.tips, l.tipsters, l.best_score, l.best_tip_id,
       l.photos,
       array(SELECT m.value FROM claim_line_members m
             WHERE m.status = l.status AND m.claim_key = l.claim_key AND m.dim = 'c'
             ORDER BY m.value) AS countries,
       array(SELECT m.value FROM claim_line_members m
             WHERE m.status = l.status AND m.claim_key = l.claim_key AND m.dim = 'l'
             ORDER BY m.value) AS languages
FROM claim_lines l
WHERE l.status = %(status)s AND l.tips > 0{object_filter}
ORDER BY l.best_score DESC, l.tipsters DESC, l.shops, l.object_ref, l.cities
LIMIT %(limit)s
"""


async def named_lines(
    conn: Conn, status: str, object_ref: str | None, limit: int = 100
) -> list[NamedLine]:
    rows = await _rows(
        conn,
        _NAMED_LINES.format(
            object_filter=" AND l.object_ref = %(object_ref)s" if object_ref else ""
        ),
        {"status": status, "object_ref": object_ref, "limit": limit},
    )
    return [
        NamedLine(
            object_ref=r["object_ref"],
            shops=tuple(r["shops"]),
            cities=tuple(r["cities"]),
            countries=tuple(r["countries"]),
            tips=r["tips"],
            tipsters=r["tipsters"],
            languages=tuple(r["languages"]),
            best_score=r["best_score"],
            best_tip_id=r["best_tip_id"],
            photos=r["photos"],
        )
        for r in rows
    ]
