"""The sink writer: batches of scored tips into the reviewer database, idempotently.

One transaction per batch; ``ON CONFLICT (tip_id) DO NOTHING`` makes a replayed batch (a worker
killed between the database commit and the offset commit) a no-op. The caller commits offsets
only after ``write`` returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from schemas import ScoredTip
from tipline.errors import TransientError
from tipline.metrics import SINK_BATCH_SIZE, SINK_COMMIT_SECONDS

log = logging.getLogger(__name__)

_INSERT_TIP = """
INSERT INTO tips (
    tip_id, object_ref, object_refs, channel, received_at, subject, body, language,
    language_confidence, sender_key, redactions, evidence, attachments, cluster_id,
    duplicate_of, similarity, corroboration, score, reasons, score_version, sealed_contact, record
) VALUES (
    %(tip_id)s, %(object_ref)s, %(object_refs)s, %(channel)s, %(received_at)s, %(subject)s,
    %(body)s, %(language)s, %(language_confidence)s, %(sender_key)s, %(redactions)s,
    %(evidence)s, %(attachments)s, %(cluster_id)s, %(duplicate_of)s, %(similarity)s,
    %(corroboration)s, %(score)s, %(reasons)s, %(score_version)s, %(sealed_contact)s, %(record)s
) ON CONFLICT (tip_id) DO NOTHING
"""

# Cluster figures only grow, so GREATEST makes a replayed or reordered row harmless.
_UPSERT_CLUSTER = """
INSERT INTO clusters AS c (cluster_id, object_ref, representative_tip_id, size, distinct_senders,
                           max_score, first_seen, last_seen)
VALUES (%(cluster_id)s, %(object_ref)s, %(representative_tip_id)s, %(size)s,
        %(distinct_senders)s, %(score)s, %(received_at)s, %(received_at)s)
ON CONFLICT (cluster_id) DO UPDATE SET
    size = GREATEST(c.size, EXCLUDED.size),
    distinct_senders = GREATEST(c.distinct_senders, EXCLUDED.distinct_senders),
    max_score = GREATEST(c.max_score, EXCLUDED.max_score),
    first_seen = LEAST(c.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(c.last_seen, EXCLUDED.last_seen)
"""


def tip_row(tip: ScoredTip) -> dict[str, Any]:
    """The tips-table row for a scored tip. Every column comes from the clean model."""
    data = tip.model_dump(mode="json")
    cluster = tip.cluster
    return {
        "tip_id": tip.tip_id,
        "object_ref": tip.object_ref,
        "object_refs": list(tip.object_refs),
        "channel": tip.channel,
        "received_at": tip.received_at,
        "subject": tip.subject,
        "body": tip.body,
        "language": tip.language,
        "language_confidence": tip.language_confidence,
        "sender_key": tip.sender_key,
        "redactions": Jsonb(data["redactions"]),
        "evidence": Jsonb(data["evidence"]),
        "attachments": Jsonb(data["attachments"]),
        "cluster_id": cluster.cluster_id if cluster else None,
        "duplicate_of": cluster.duplicate_of if cluster else None,
        "similarity": cluster.similarity if cluster else None,
        "corroboration": Jsonb(data["corroboration"]),
        "score": tip.score,
        "reasons": Jsonb(data["reasons"]),
        "score_version": tip.score_version,
        "sealed_contact": tip.sealed_contact,
        # The record is what re-scoring and dedupe restore read: they never need the contact.
        "record": Jsonb({k: v for k, v in data.items() if k != "sealed_contact"}),
    }


def _cluster_row(tip: ScoredTip) -> dict[str, Any]:
    assert tip.cluster is not None
    return {
        "cluster_id": tip.cluster.cluster_id,
        "object_ref": tip.object_ref,
        "representative_tip_id": tip.cluster.representative_tip_id,
        "size": tip.cluster.size,
        "distinct_senders": tip.cluster.distinct_senders,
        "score": tip.score,
        "received_at": tip.received_at,
    }


@dataclass(frozen=True)
class WriteResult:
    """How many tips of a batch were new, and which the database refused (with why)."""

    inserted: int
    rejected: tuple[tuple[ScoredTip, str], ...]


class TipWriter:
    """Owns one async connection; ``write`` stores a batch atomically or raises TransientError."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self._url)
        return self._conn

    async def write(self, batch: Sequence[ScoredTip]) -> WriteResult:
        """Store the batch in one transaction and return what became of each tip.

        A row the database refuses (a data error, not an outage) would fail the whole batch
        forever, so the batch is then retried tip by tip and only the refused tips are returned
        for the dead-letter topic. An outage raises TransientError and nothing is stored.
        """
        if not batch:
            return WriteResult(inserted=0, rejected=())
        try:
            return WriteResult(inserted=await self._write_batch(batch), rejected=())
        except psycopg.OperationalError as exc:
            await self.close()
            raise TransientError(f"database unavailable: {type(exc).__name__}") from exc
        except psycopg.Error:
            log.warning("batch of %d refused by the database; storing tip by tip", len(batch))
        inserted = 0
        rejected: list[tuple[ScoredTip, str]] = []
        for tip in batch:
            try:
                inserted += await self._write_batch([tip])
            except psycopg.OperationalError as exc:
                await self.close()
                raise TransientError(f"database unavailable: {type(exc).__name__}") from exc
            except psycopg.Error as exc:
                rejected.append((tip, f"database refused the row: {type(exc).__name__}"))
        return WriteResult(inserted=inserted, rejected=tuple(rejected))

    async def _write_batch(self, batch: Sequence[ScoredTip]) -> int:
        # Sorted so that two sinks touching the same clusters lock rows in the same order.
        clustered = sorted(
            (t for t in batch if t.cluster is not None),
            key=lambda t: t.cluster.cluster_id if t.cluster else "",
        )
        conn = await self._connection()
        started = time.perf_counter()
        async with conn.transaction(), conn.cursor() as cur:
            await cur.executemany(_INSERT_TIP, [tip_row(t) for t in batch])
            inserted = max(cur.rowcount, 0)
            if clustered:
                await cur.executemany(_UPSERT_CLUSTER, [_cluster_row(t) for t in clustered])
        SINK_COMMIT_SECONDS.observe(time.perf_counter() - started)
        SINK_BATCH_SIZE.observe(len(batch))
        return inserted

    async def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()
        self._conn = None
