"""The sink writer: batches of scored tips into the reviewer database, idempotently and fast.

``TipWriter`` implements the runtime's ``Sink`` protocol (processors/runtime/sink.py). One
transaction per batch: the tips not stored yet are staged in a temporary table and moved
into ``tips``, re-scored on the way (store/rescore.py), with one ``INSERT … SELECT … ON
CONFLICT (tip_id) DO NOTHING``, so a replayed batch (a worker killed between the database commit and
the offset commit) is a no-op and each new row is written once. Cluster figures are
recomputed from the stored and staged rows of the clusters the batch touched, in the same
transaction, so they are replay-exact: a tip counted twice in memory or replayed after a crash
cannot inflate a cluster, and a cluster row exists only while it has tips. The cluster a tip
joins is the machine's unless an analyst merged that cluster away or moved the tip it
duplicates (migration 062): a later batch never undoes an analyst's merge or split.

An outage raises ``SinkBackpressureError(retry_after)`` (growing back-off) and stores nothing;
the runtime pauses input and writes the batch again. The caller commits offsets only after
``write`` returned.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from schemas import ScoredTip
from store import rescore
from store.rescore import CrowdRule
from tipline.core.errors import SinkBackpressureError
from tipline.core.metrics import SINK_BATCH_SIZE, SINK_COMMIT_SECONDS, SINK_RESCORED

log = logging.getLogger(__name__)

_COLUMNS = (
    "tip_id",
    "object_ref",
    "object_refs",
    "channel",
    "received_at",
    "subject",
    "body",
    "language",
    "language_confidence",
    "sender_key",
    "redactions",
    "evidence",
    "attachments",
    "cluster_id",
    "duplicate_of",
    "similarity",
    "corroboration",
    "score",
    "reasons",
    "score_version",
    "sealed_contact",
    "record",
    "follow_up_of",
)
_COLUMN_LIST = ", ".join(_COLUMNS)
# The keys of a JSON row that are not the tip as the sink received it: the server drops them
# to make the ``record`` column, so the tip travels once, not twice (as columns and record).
_NOT_RECORD = ("sealed_contact", "cluster_id", "duplicate_of", "similarity")

# The whole batch travels as one JSON array parameter and becomes rows on the server: one
# statement, one round trip, and the client only serialises JSON (measured: COPY with a Python
# row writer spent ≈ 1 ms per row on the client; COPY of the same JSON objects, one per line,
# into a temporary table read by the staging cost the server ≈ 15–60 µs more per row than this
# one parameter, in benchmarks/bench_sink.py on both its texts).
#
# The rows are staged first in a temporary table (``sink_batch``, see store/rescore.py): claims,
# cluster figures and the crowd reasons are computed over tips + staged rows, and each new row
# is written to ``tips`` once, re-scored as it is inserted (the staged row itself is never
# rewritten). Inserting first and re-scoring after wrote
# most new rows twice (every index of ``tips`` maintained twice; measured ≈ 180 µs of server
# CPU per row in benchmarks/bench_sink.py). Staged are only the tips not stored yet (a replay
# stages nothing), the first of two copies of one tip in a batch.
# The cluster is the machine's unless an analyst decided otherwise (migration 062): a tip
# duplicating one an analyst moved joins that tip's cluster; a cluster merged away by an
# analyst is replaced by the one it was merged into.
_CREATE_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS sink_batch (LIKE tips INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
"""
_ANALYST_CLUSTER = (
    "CASE WHEN d.cluster_by_analyst THEN d.cluster_id ELSE coalesce(r.cluster_id, j.cluster_id) END"
)
_RECORD = "e.r - '{" + ",".join(_NOT_RECORD) + "}'::text[]"
_SELECT_LIST = ", ".join(
    _ANALYST_CLUSTER if name == "cluster_id" else _RECORD if name == "record" else f"j.{name}"
    for name in _COLUMNS
)
_STAGE_BATCH = f"""
INSERT INTO sink_batch ({_COLUMN_LIST})
SELECT DISTINCT ON (j.tip_id) {_SELECT_LIST}
FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(r, ordinality)
CROSS JOIN LATERAL jsonb_populate_record(NULL::tips, e.r) j
LEFT JOIN tips d ON d.tip_id = j.duplicate_of
LEFT JOIN cluster_redirects r ON r.from_cluster_id = j.cluster_id
WHERE NOT EXISTS (SELECT 1 FROM tips s WHERE s.tip_id = j.tip_id)
ORDER BY j.tip_id, e.ordinality
RETURNING cluster_id
"""  # noqa: S608 (built from the constant column list above, never from input)
# stored_at (clock_timestamp()) and ingested_at take their defaults as the row is inserted.
# ON CONFLICT still guards the key: a writer that takes no object lock (an import) may have
# stored the tip since it was staged.
_INSERT_STAGED = f"""
INSERT INTO tips ({_COLUMN_LIST})
SELECT {_COLUMN_LIST} FROM sink_batch
ON CONFLICT (tip_id) DO NOTHING
"""  # noqa: S608 (built from the constant column list above, never from input)

# Two sinks may briefly touch one cluster during a rebalance: transaction-scoped locks on the
# clusters' hash buckets (store/rescore.py ``lock_buckets``, bounded whatever the batch), taken
# after the objects' ones and in sorted order, serialise their recomputations without deadlocks.
# A receipt's lookup id is random: a clash (or a replay) keeps the first row, never overwrites it.
_INSERT_RECEIPT = """
INSERT INTO followup_receipts (lookup_id, tip_id, secret_hash)
VALUES (%(lookup_id)s, %(tip_id)s, %(secret_hash)s)
ON CONFLICT DO NOTHING
"""

# Over the stored and the staged rows. Each cluster is an index probe (OFFSET 0 keeps it one):
# with ``= ANY(array)`` the planner, misled by a young table's statistics, scanned all of tips
# and of clusters for every batch, a cost growing with the table. Returns the clusters whose
# effective number of distinct senders (``min(n, %(full)s)``, see store/rescore.py) grew to 2
# or more: their members' "same tip" reason is re-scored (a new cluster of one sender has no
# such reason; its tips are in the batch anyway).
_RECOMPUTE_CLUSTERS = """
WITH keys AS (SELECT DISTINCT unnest(%(clusters)s::text[]) AS cluster_id),
old AS (
    SELECT o.cluster_id, o.distinct_senders
    FROM keys k
    CROSS JOIN LATERAL (
        SELECT cluster_id, distinct_senders FROM clusters
        WHERE clusters.cluster_id = k.cluster_id OFFSET 0
    ) o
),
new AS (
INSERT INTO clusters AS c (cluster_id, object_ref, representative_tip_id, size, distinct_senders,
                           max_score, first_seen, last_seen)
SELECT t.cluster_id,
       (array_agg(t.object_ref ORDER BY t.received_at, t.tip_id))[1],
       (array_agg(coalesce(t.record #>> '{cluster,representative_tip_id}', t.tip_id)
                  ORDER BY t.received_at, t.tip_id))[1],
       count(*),
       count(DISTINCT coalesce(t.sender_key, t.tip_id)),
       max(t.score),
       min(t.received_at),
       max(t.received_at)
FROM (
    SELECT m.cluster_id, m.object_ref, m.received_at, m.tip_id, m.record, m.sender_key, m.score
    FROM keys k
    CROSS JOIN LATERAL (
        SELECT cluster_id, object_ref, received_at, tip_id, record, sender_key, score FROM tips
        WHERE tips.cluster_id = k.cluster_id OFFSET 0
    ) m
    UNION ALL
    SELECT cluster_id, object_ref, received_at, tip_id, record, sender_key, score FROM sink_batch
    WHERE cluster_id = ANY(%(clusters)s::text[])
) t
GROUP BY t.cluster_id
ON CONFLICT (cluster_id) DO UPDATE SET
    size = EXCLUDED.size,
    distinct_senders = EXCLUDED.distinct_senders,
    max_score = EXCLUDED.max_score,
    first_seen = EXCLUDED.first_seen,
    last_seen = EXCLUDED.last_seen
RETURNING c.cluster_id, c.distinct_senders
)
SELECT new.cluster_id FROM new LEFT JOIN old USING (cluster_id)
WHERE new.distinct_senders >= 2
  AND least(coalesce(old.distinct_senders, 0), %(full)s) < least(new.distinct_senders, %(full)s)
"""

# A hook run after the insert, in the same transaction.
AfterInsert = Callable[[psycopg.AsyncCursor[Any], Sequence[ScoredTip]], Awaitable[None]]


@dataclass(frozen=True)
class WriteResult:
    """How many tips of a batch were new, and which the database refused (with why)."""

    inserted: int
    rejected: tuple[tuple[ScoredTip, str], ...] = ()


def tip_row(tip: ScoredTip) -> dict[str, Any]:
    """The tips-table row for a scored tip, as JSON values; every column from the clean model."""
    data = tip.model_dump(mode="json")
    cluster = data["cluster"] or {}
    row = {name: data.get(name) for name in _COLUMNS if name in data}
    row["cluster_id"] = cluster.get("cluster_id")
    row["duplicate_of"] = cluster.get("duplicate_of")
    row["similarity"] = cluster.get("similarity")
    # The record is what re-scoring and dedupe restore read: they never need the contact,
    # and the receipt's hash lives only in followup_receipts.
    row["record"] = {k: v for k, v in data.items() if k not in ("sealed_contact", "receipt")}
    return row


_ROW_EXCLUDE: set[str] = {"receipt"}


def tip_row_json(tip: ScoredTip) -> str:
    """The JSON object ``_STAGE_BATCH`` reads for a scored tip, serialised by pydantic
    (measured ≈ 4x cheaper than ``tip_row`` plus ``json.dumps``): the tip's fields (the
    receipt never travels) and the cluster's columns. Keys that are not columns (``cluster``)
    are ignored by ``jsonb_populate_record``; the row without ``_NOT_RECORD`` is the record."""
    fields = tip.model_dump_json(exclude=_ROW_EXCLUDE)
    cluster = tip.cluster
    extra = json.dumps(
        {
            "cluster_id": cluster.cluster_id if cluster else None,
            "duplicate_of": cluster.duplicate_of if cluster else None,
            "similarity": cluster.similarity if cluster else None,
        }
    )
    return f"{fields[:-1]},{extra[1:]}"


def rows_json(batch: Sequence[ScoredTip]) -> str:
    """The batch as the JSON array ``_STAGE_BATCH`` reads."""
    return "[" + ",".join(tip_row_json(t) for t in batch) + "]"


class TipWriter:
    """Owns one async connection; ``write`` stores a batch atomically (see the module doc)."""

    def __init__(
        self,
        url: str,
        *,
        crowd: CrowdRule | None = None,
        after_insert: AfterInsert | None = None,
        first_retry: float = 0.2,
        max_retry: float = 30.0,
    ) -> None:
        self._url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._crowd = crowd
        self._after_insert = after_insert
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._failures = 0

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(self._url)
            await conn.execute(_CREATE_STAGING)
            await conn.commit()
            self._conn = conn
        return self._conn

    async def _unavailable(self, exc: psycopg.Error) -> SinkBackpressureError:
        await self.close()
        retry_after = min(self._first_retry * 2**self._failures, self._max_retry)
        self._failures += 1
        log.warning("database unavailable (%s); pausing input", type(exc).__name__)
        return SinkBackpressureError(retry_after)

    async def write(self, batch: Sequence[ScoredTip]) -> WriteResult:
        """Store the batch in one transaction and return what became of each tip.

        A row the database refuses (a data error, not an outage) would fail the whole batch
        forever, so the batch is then stored tip by tip and only the refused tips are returned
        for the dead-letter topic.
        """
        if not batch:
            return WriteResult(inserted=0)
        try:
            inserted = await self._write_batch(batch)
        except psycopg.OperationalError as exc:
            raise await self._unavailable(exc) from exc
        except psycopg.Error:
            log.warning("batch of %d refused by the database; storing tip by tip", len(batch))
        else:
            self._failures = 0
            return WriteResult(inserted=inserted)
        inserted = 0
        rejected: list[tuple[ScoredTip, str]] = []
        for tip in batch:
            try:
                inserted += await self._write_batch([tip])
            except psycopg.OperationalError as exc:
                raise await self._unavailable(exc) from exc
            except psycopg.Error as exc:
                rejected.append((tip, f"database refused the row: {type(exc).__name__}"))
        self._failures = 0
        return WriteResult(inserted=inserted, rejected=tuple(rejected))

    async def _write_batch(self, batch: Sequence[ScoredTip]) -> int:
        tip_ids = [t.tip_id for t in batch]
        objects = sorted({t.object_ref or "" for t in batch})
        crowd = self._crowd
        conn = await self._connection()
        started = time.perf_counter()
        async with conn.transaction(), conn.cursor() as cur:
            # Locks in one order everywhere (objects, then clusters): no deadlocks. The object
            # lock comes first so that no other sink stores one of these tips between the
            # staging (which leaves out stored tips) and the insert.
            await rescore.lock_objects(cur, objects)
            await cur.execute(_STAGE_BATCH, (rows_json(batch),))
            # The clusters the new rows go to (after the analysts' redirects): a replayed
            # tip changes no cluster, so only these are recomputed.
            clusters = sorted({c for (c,) in await cur.fetchall() if c is not None})
            changed_claims = await rescore.claims(cur, tip_ids, crowd.agree_full if crowd else 1)
            changed_clusters: list[str] = []
            if clusters:
                await rescore.lock_buckets(cur, rescore.CLUSTERS_NAMESPACE, clusters)
                await cur.execute(
                    _RECOMPUTE_CLUSTERS,
                    {"clusters": clusters, "full": crowd.same_full if crowd else 1},
                )
                changed_clusters = [str(row[0]) for row in await cur.fetchall()]
            if crowd is not None:
                rescored, inserted = await rescore.rescore_and_insert(
                    cur, tip_ids, changed_claims, changed_clusters, crowd, columns=_COLUMNS
                )
                SINK_RESCORED.inc(rescored)
            else:
                await cur.execute(_INSERT_STAGED)
                inserted = max(cur.rowcount, 0)
            # --- after the insert, in the same transaction ---
            if self._after_insert is not None:
                await self._after_insert(cur, batch)
            receipts = [{"tip_id": t.tip_id, **t.receipt.model_dump()} for t in batch if t.receipt]
            if receipts:
                await cur.executemany(_INSERT_RECEIPT, receipts)
        SINK_COMMIT_SECONDS.observe(time.perf_counter() - started)
        SINK_BATCH_SIZE.observe(len(batch))
        return inserted

    async def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()
        self._conn = None
