"""Re-scoring in the sink: the "others agree" bonus follows the database, not the arrival order.

A tip is scored once, in triage, with the corroboration its worker had seen so far: the first
tip about a shop got no "agree" bonus, the tenth the full one. The sink, in the same transaction
that stores a batch, therefore keeps per-claim tipster counts (migration 052) and rewrites the
crowd reason (``agree`` or ``same_tip``), the score and ``score_version`` of every stored tip
whose crowd reason changed, early or late, so every member of a claim carries the same bonus.

Contract (all set-based SQL, a few statements per batch). The batch's new rows are read from
the sink's staging table ``sink_batch`` (store/sink.py) and inserted into ``tips`` already
re-scored, so each new row is written once:

    claims(cur, tip_ids)             record the batch's claims; return the claims whose
                                     effective tipster count changed
    changed_clusters(...)            (in store.sink) the clusters whose effective number of
                                     distinct senders changed
    rescore_and_insert(cur, tip_ids, claims, clusters, rule, columns) -> (int, int)
                                     recompute the crowd reason of the batch's tips and of every
                                     member of those claims and clusters; stored rows whose
                                     reasons are unchanged are not written; the staged rows
                                     are inserted into tips with their new reasons, in the
                                     same statement; returns rows re-scored, rows inserted

The rule's weights are the scorer's (processors.score, passed in by the wiring: the store does
not import the processors). Counts are *effective*: ``min(n, full)`` where ``full`` is the first
count at which the weight stops growing; the reason's text says "at least <full> independent
tipsters" from there on, so neither weight nor text changes for later tipsters and a claim's
members are re-scored at most ``full - 1`` times, not once per new tipster: the cost per batch
stays flat as a claim grows to 100k tips.

Idempotent: the counts grow only by new (claim, tipster) rows, and the rewritten reasons are a
function of the database state, so a replayed batch changes nothing. Tipsters are the sender
key, or ``tip:<tip_id>`` for a tip without one (as in processors.dedupe).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

# Where a re-scored row's score_version says so: "2.0" becomes "2.0+crowd".
RESCORED_SUFFIX = "+crowd"


def full_count(step: int, most: int) -> int:
    """The first tipster count whose weight ``step * (n - 1)`` reaches ``most``."""
    return -(-most // step) + 1


@dataclass(frozen=True)
class CrowdRule:
    """The crowd-reason weights of processors.score (``W_AGREE_*``, ``W_SAME_*``)."""

    agree_step: int
    agree_max: int
    same_step: int
    same_max: int

    @property
    def agree_full(self) -> int:
        return full_count(self.agree_step, self.agree_max)

    @property
    def same_full(self) -> int:
        return full_count(self.same_step, self.same_max)


# The batch's claims, read from the stored rows (a replayed tip counts as first stored) and
# from the staged ones (the tips about to be stored, which are not in ``tips`` yet).
_CLAIMS = """
WITH batch AS (
    SELECT t.tip_id, coalesce(t.object_ref, '') AS object_ref,
           coalesce(t.sender_key, 'tip:' || t.tip_id) AS tipster, e.kind, e.value
    FROM (
        SELECT tip_id, object_ref, sender_key, evidence, corroboration FROM tips
        WHERE tip_id = ANY(%(tips)s::text[])
        UNION ALL
        SELECT tip_id, object_ref, sender_key, evidence, corroboration FROM sink_batch
    ) t
    CROSS JOIN LATERAL (
        SELECT 'country' AS kind, v AS value
        FROM jsonb_array_elements_text(t.evidence -> 'countries') v
        UNION ALL SELECT 'city', v FROM jsonb_array_elements_text(t.evidence -> 'cities') v
        UNION ALL SELECT 'shop', v FROM jsonb_array_elements_text(t.evidence -> 'shops') v
        UNION ALL SELECT 'brand', v FROM jsonb_array_elements_text(t.evidence -> 'brands') v
        UNION ALL SELECT 'product_id', v
        FROM jsonb_array_elements_text(t.evidence -> 'product_ids') v
        -- Near-identical photos: dedupe names the group by its first photo's hash.
        UNION ALL SELECT 'photo', c ->> 'value' FROM jsonb_array_elements(t.corroboration) c
        WHERE c ->> 'kind' = 'photo'
    ) e
),
members AS (
    INSERT INTO claim_members (object_ref, kind, value, tip_id)
    SELECT DISTINCT object_ref, kind, value, tip_id FROM batch
    ON CONFLICT DO NOTHING
),
added AS (
    INSERT INTO claim_tipsters (object_ref, kind, value, tipster)
    SELECT DISTINCT object_ref, kind, value, tipster FROM batch
    ON CONFLICT DO NOTHING
    RETURNING object_ref, kind, value
),
counted AS (
    SELECT object_ref, kind, value, count(*)::integer AS n FROM added GROUP BY 1, 2, 3
),
upserted AS (
    INSERT INTO claim_counts AS c (object_ref, kind, value, tipsters)
    SELECT object_ref, kind, value, n FROM counted
    ON CONFLICT (object_ref, kind, value) DO UPDATE SET tipsters = c.tipsters + EXCLUDED.tipsters
    RETURNING c.object_ref, c.kind, c.value, c.tipsters
)
SELECT u.object_ref, u.kind, u.value
FROM upserted u JOIN counted n USING (object_ref, kind, value)
WHERE u.tipsters - n.n < %(full)s
"""

# Transaction-scoped advisory locks on hash buckets, not on the keys themselves: one lock per
# object (or cluster) made a batch of a few thousand distinct keys overrun PostgreSQL's shared
# lock table ("out of shared memory", max_locks_per_transaction); the buckets bound a
# transaction to ``LOCK_BUCKETS`` locks per namespace whatever the batch. Two keys sharing a
# bucket only serialise two sinks a little more. The two-int form keeps each namespace apart
# (and apart from the migration's one-bigint lock); buckets are taken distinct and in sorted
# order (volatile select-list functions run after ORDER BY), so two sinks never deadlock.
LOCK_BUCKETS = 64
OBJECTS_NAMESPACE = 0x636C6D01  # claims, per object_ref
CLUSTERS_NAMESPACE = 0x636C7302  # cluster figures, per cluster_id
_LOCK_BUCKETS = """
SELECT pg_advisory_xact_lock(%(namespace)s, b.bucket)
FROM (SELECT DISTINCT (hashtextextended(k, 0) & %(mask)s)::integer AS bucket
      FROM unnest(%(keys)s::text[]) AS k) b
ORDER BY b.bucket
"""


async def lock_buckets(cur: psycopg.AsyncCursor[Any], namespace: int, keys: Sequence[str]) -> None:
    """Take the transaction-scoped locks of the buckets of ``keys`` in ``namespace``
    (see ``_LOCK_BUCKETS``): at most ``LOCK_BUCKETS`` locks, however many keys."""
    if keys:
        await cur.execute(
            _LOCK_BUCKETS,
            {"namespace": namespace, "keys": sorted(set(keys)), "mask": LOCK_BUCKETS - 1},
        )


# The crowd reason of each target tip, exactly as processors.score writes it (an integration
# test compares the two): the best claim by (effective count, kind, value) in code-point order
# when at least two tipsters name it, else the cluster's distinct senders unless the tip is an
# exact copy of a large cluster. Reasons keep their order; the crowd reason goes where the scorer
# puts it, after every other reason but the sender's burst.
_RESCORE_AND_INSERT = """
WITH targets AS MATERIALIZED (
    SELECT tip_id FROM unnest(%(tips)s::text[]) AS tip_id
    UNION
    SELECT m.tip_id
    FROM unnest(%(objects)s::text[], %(kinds)s::text[], %(values)s::text[]) AS c(o, k, v)
    CROSS JOIN LATERAL (
        SELECT tip_id FROM claim_members
        WHERE object_ref = c.o AND kind = c.k AND value = c.v OFFSET 0
    ) m
    UNION
    SELECT m.tip_id
    FROM unnest(%(clusters)s::text[]) AS c(cluster_id)
    CROSS JOIN LATERAL (SELECT tip_id FROM tips WHERE cluster_id = c.cluster_id OFFSET 0) m
),
-- OFFSET 0 keeps each lookup a per-target index probe: the planner, misled by a young
-- table's statistics, otherwise hash-joins whole tables for a batch of 500 tips.
crowd AS (
    SELECT t.tip_id, t.reasons, t.staged, t.score_version,
           CASE
           WHEN b.n IS NOT NULL THEN jsonb_build_object(
               'feature', 'agree',
               'text', CASE WHEN b.n >= %(agree_full)s THEN 'at least ' ELSE '' END
                       || b.n || ' independent tipsters '
                       || CASE WHEN b.kind = 'photo' THEN 'sent near-identical photos'
                               ELSE 'agree on ' || b.kind || ' ' || b.value END,
               'weight', least(%(agree_max)s, %(agree_step)s * (b.n - 1)))
           WHEN cl.distinct_senders >= 2
                AND NOT t.reasons @> '[{"feature": "copy"}]'::jsonb THEN jsonb_build_object(
               'feature', 'same_tip',
               'text', CASE WHEN cl.distinct_senders >= %(same_full)s
                            THEN 'at least ' || %(same_full)s
                            ELSE cl.distinct_senders::text END
                       || ' independent tipsters sent this tip',
               'weight', least(%(same_max)s,
                               %(same_step)s * (least(cl.distinct_senders, %(same_full)s) - 1)))
           END AS reason
    FROM (
        -- Every staged row is a target (it is one of the batch's tips) and is not in tips yet.
        SELECT tip_id, reasons, cluster_id, score_version, true AS staged FROM sink_batch
        UNION ALL
        SELECT t.tip_id, t.reasons, t.cluster_id, t.score_version, false
        FROM targets x
        CROSS JOIN LATERAL (
            SELECT tip_id, reasons, cluster_id, score_version
            FROM tips WHERE tips.tip_id = x.tip_id OFFSET 0
        ) t
    ) t
    LEFT JOIN LATERAL (
        SELECT m.kind, m.value, least(c.tipsters, %(agree_full)s) AS n
        FROM claim_members m JOIN claim_counts c USING (object_ref, kind, value)
        WHERE m.tip_id = t.tip_id AND c.tipsters >= 2
        ORDER BY least(c.tipsters, %(agree_full)s) DESC,
                 m.kind COLLATE "C" DESC, m.value COLLATE "C" DESC
        LIMIT 1
    ) b ON true
    LEFT JOIN LATERAL (
        SELECT distinct_senders FROM clusters WHERE clusters.cluster_id = t.cluster_id OFFSET 0
    ) cl ON true
),
-- Materialised: the rebuilt reasons are compared, summed and written; inlined, the planner
-- rebuilt them once for each use.
rebuilt AS MATERIALIZED (
    SELECT c.tip_id, c.staged, c.reasons AS old, c.score_version,
           coalesce((SELECT jsonb_agg(r ORDER BY i)
                     FROM jsonb_array_elements(c.reasons) WITH ORDINALITY AS e(r, i)
                     WHERE r ->> 'feature' NOT IN ('agree', 'same_tip', 'burst')), '[]'::jsonb)
           || CASE WHEN c.reason IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(c.reason) END
           || coalesce((SELECT jsonb_agg(r ORDER BY i)
                        FROM jsonb_array_elements(c.reasons) WITH ORDINALITY AS e(r, i)
                        WHERE r ->> 'feature' = 'burst'), '[]'::jsonb) AS reasons
    FROM crowd c
),
changed AS MATERIALIZED (
    SELECT r.tip_id, r.staged, r.reasons,
           CASE WHEN right(r.score_version, length(%(suffix)s)) = %(suffix)s
                THEN r.score_version ELSE r.score_version || %(suffix)s END AS version,
           greatest(0, least(100, (SELECT coalesce(sum((x ->> 'weight')::integer), 0)
                                   FROM jsonb_array_elements(r.reasons) x)))::smallint AS score
    FROM rebuilt r
    WHERE r.reasons IS DISTINCT FROM r.old
),
-- A stored row is re-scored in place; a staged one as it is inserted into tips (below).
stored AS (
    UPDATE tips t SET reasons = s.reasons, score = s.score, score_version = s.version,
        record = t.record || jsonb_build_object(
            'reasons', s.reasons, 'score', s.score, 'score_version', s.version)
    FROM changed s
    WHERE NOT s.staged AND t.tip_id = s.tip_id
      -- A key probe on tips: joined to the CTE alone, a young table was hash-joined whole.
      AND t.tip_id = ANY(ARRAY(SELECT tip_id FROM changed WHERE NOT staged))
    RETURNING 1
),
-- The staged rows go into tips with their re-scored columns: each new row is written once,
-- and the staging table is never rewritten (an UPDATE of the staged rows, whole rows with
-- their records, cost ≈ 20 µs of server CPU per row in benchmarks/bench_sink.py).
inserted AS (
    INSERT INTO tips ({columns})
    SELECT {select_list}
    FROM sink_batch b LEFT JOIN changed s ON s.staged AND s.tip_id = b.tip_id
    ON CONFLICT (tip_id) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM changed WHERE staged) + (SELECT count(*) FROM stored),
       (SELECT count(*) FROM inserted)
"""


async def lock_objects(cur: psycopg.AsyncCursor[Any], object_refs: Sequence[str]) -> None:
    """Serialise claim updates per object (by bucket, see ``_LOCK_BUCKETS``)."""
    await lock_buckets(cur, OBJECTS_NAMESPACE, object_refs)


async def claims(
    cur: psycopg.AsyncCursor[Any], tip_ids: Sequence[str], full: int
) -> list[tuple[str, str, str]]:
    """Count the batch's claims; return (object_ref, kind, value) of those whose effective
    tipster count ``min(n, full)`` changed. Call after the batch's new rows are staged in
    ``sink_batch`` (store/sink.py), before they are inserted."""
    await cur.execute(_CLAIMS, {"tips": list(tip_ids), "full": full})
    return [(str(o), str(k), str(v)) for o, k, v in await cur.fetchall()]


# The columns of a staged row as it is inserted: the re-scored ones from ``changed`` when the
# row's crowd reason changed, the staged value otherwise.
_RESCORED_COLUMNS = {
    "reasons": "coalesce(s.reasons, b.reasons)",
    "score": "coalesce(s.score, b.score)",
    "score_version": "coalesce(s.version, b.score_version)",
    "record": "CASE WHEN s.tip_id IS NULL THEN b.record ELSE b.record || jsonb_build_object("
    "'reasons', s.reasons, 'score', s.score, 'score_version', s.version) END",
}


@functools.cache
def _rescore_and_insert_sql(columns: tuple[str, ...]) -> str:
    select_list = ", ".join(_RESCORED_COLUMNS.get(name, f"b.{name}") for name in columns)
    return _RESCORE_AND_INSERT.replace("{columns}", ", ".join(columns)).replace(
        "{select_list}", select_list
    )


async def rescore_and_insert(
    cur: psycopg.AsyncCursor[Any],
    tip_ids: Sequence[str],
    changed: Sequence[tuple[str, str, str]],
    clusters: Sequence[str],
    rule: CrowdRule,
    *,
    columns: Sequence[str],
) -> tuple[int, int]:
    """Rewrite the crowd reason of the batch's tips and of every member of ``changed`` claims
    and ``clusters``, and insert the staged rows (their ``columns``, re-scored) into ``tips``
    with ``ON CONFLICT (tip_id) DO NOTHING``, in one statement; returns the number of rows
    whose score or reasons changed and the number of rows inserted."""
    await cur.execute(
        _rescore_and_insert_sql(tuple(columns)),
        {
            "tips": list(tip_ids),
            "objects": [c[0] for c in changed],
            "kinds": [c[1] for c in changed],
            "values": [c[2] for c in changed],
            "clusters": list(clusters),
            "agree_full": rule.agree_full,
            "agree_step": rule.agree_step,
            "agree_max": rule.agree_max,
            "same_full": rule.same_full,
            "same_step": rule.same_step,
            "same_max": rule.same_max,
            "suffix": RESCORED_SUFFIX,
        },
    )
    row = await cur.fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
