"""Read access to stored tips for the processors, to rebuild per-partition state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg

from schemas import ScoredTip
from tipline.core.errors import TransientError

_RECENT_OF_OBJECT = """
SELECT record FROM (
    SELECT record, ingested_at, tip_id FROM tips
    WHERE object_ref IS NOT DISTINCT FROM %s
    ORDER BY ingested_at DESC, tip_id DESC
    LIMIT %s
) recent ORDER BY ingested_at, tip_id
"""

_PICTURE_HASH = "SELECT picture_phash FROM objects WHERE object_ref = %s"


# A sender's stored tips within the activity window (index tips_sender, migration 053).
_SENDER_EVENTS = """
SELECT received_at, tip_id FROM tips
WHERE sender_key = %s AND received_at >= %s
ORDER BY received_at DESC
LIMIT %s
"""


# The same for many senders in one round trip: each key with the start of its own window.
_SENDERS_EVENTS = """
SELECT s.sender_key, t.received_at, t.tip_id
FROM unnest(%s::text[], %s::timestamptz[]) AS s(sender_key, since)
CROSS JOIN LATERAL (
    SELECT received_at, tip_id FROM tips
    WHERE tips.sender_key = s.sender_key AND received_at >= s.since
    ORDER BY received_at DESC
    LIMIT %s
) t
ORDER BY s.sender_key, t.received_at DESC
"""


class TipStore:
    """Earlier scored tips, oldest first, so dedupe state can be restored after a restart."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def recent_tips(self, object_ref: str | None, limit: int) -> list[ScoredTip]:
        rows = await self._rows(_RECENT_OF_OBJECT, (object_ref, limit))
        return [ScoredTip.model_validate(row[0]) for row in rows]

    async def picture_hash(self, object_ref: str) -> str | None:
        """The perceptual hash of the object's published picture, if it has one."""
        rows = await self._rows(_PICTURE_HASH, (object_ref,))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            cur = await self._conn.execute(sql, params)
            return await cur.fetchall()
        except psycopg.OperationalError as exc:
            await self.close()
            raise TransientError(f"database unavailable: {type(exc).__name__}") from exc

    async def sender_events(
        self, sender_key: str, since: datetime, limit: int
    ) -> list[tuple[datetime, str]]:
        """(received_at, tip_id) of the sender's latest stored tips since ``since``."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            cur = await self._conn.execute(_SENDER_EVENTS, (sender_key, since, limit))
            rows = await cur.fetchall()
        except psycopg.OperationalError as exc:
            await self.close()
            raise TransientError(f"database unavailable: {type(exc).__name__}") from exc
        return [(row[0], str(row[1])) for row in rows]

    async def senders_events(
        self, since: Mapping[str, datetime], limit: int
    ) -> dict[str, list[tuple[datetime, str]]]:
        """``sender_events`` for every key of ``since`` (key -> start of its window) at once:
        the restore of a batch's new senders is one query, not one per sender."""
        keys = list(since)
        rows = await self._rows(_SENDERS_EVENTS, (keys, [since[k] for k in keys], limit))
        found: dict[str, list[tuple[datetime, str]]] = {}
        for key, received_at, tip_id in rows:
            found.setdefault(str(key), []).append((received_at, str(tip_id)))
        return found

    async def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()
            self._conn = None
