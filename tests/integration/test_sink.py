"""The sink writer against the real PostgreSQL: idempotent batches, refused rows isolated."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from schemas import Cluster, Evidence, ScoredTip
from store.history import TipStore
from store.sink import TipWriter
from tests.integration.conftest import count_rows


def scored(n: int, body: str = "Lidl in Graz", cluster: str = "c-1", size: int = 1) -> ScoredTip:
    return ScoredTip(
        tip_id=f"s-{n}",
        channel="web",
        received_at=datetime(2026, 11, 3, 8, n, tzinfo=UTC),
        object_ref="5",
        body=body,
        evidence=Evidence(countries=("AT",), cities=("Graz",), shops=("Lidl",)),
        cluster=Cluster(
            cluster_id=cluster, representative_tip_id="s-0", size=size, distinct_senders=size
        ),
        score=40 + n,
        score_version="test",
    )


def test_batches_are_idempotent_and_clusters_counted_from_rows(database_url: str) -> None:
    async def run() -> tuple[int, int, int]:
        writer = TipWriter(database_url)
        first = await writer.write([scored(i, size=i + 1) for i in range(3)])
        again = await writer.write([scored(i, size=i + 1) for i in range(3)])
        older = await writer.write([scored(0, size=1)])  # a replay of an old figure
        await writer.close()
        return first.inserted, again.inserted, older.inserted

    assert asyncio.run(run()) == (3, 0, 0)
    assert count_rows(database_url) == 3
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT size, distinct_senders, max_score FROM clusters").fetchone()
    assert row == (3, 3, 42)


def test_a_refused_row_does_not_block_its_batch(database_url: str) -> None:
    """PostgreSQL refuses NUL characters in text: that tip is returned for the dead-letter
    topic, the rest of the batch is stored."""

    async def run() -> tuple[int, list[str]]:
        writer = TipWriter(database_url)
        batch = [scored(1), scored(2, body="bad \x00 byte"), scored(3)]
        result = await writer.write(batch)
        await writer.close()
        return result.inserted, [tip.tip_id for tip, _ in result.rejected]

    inserted, rejected = asyncio.run(run())
    assert (inserted, rejected) == (2, ["s-2"])
    with psycopg.connect(database_url) as conn:
        ids = sorted(r[0] for r in conn.execute("SELECT tip_id FROM tips"))
    assert ids == ["s-1", "s-3"]


def test_consensus_view_counts_independent_tipsters(database_url: str) -> None:
    async def run() -> None:
        writer = TipWriter(database_url)
        tips = [
            scored(1).model_copy(update={"sender_key": "k1:a"}),
            scored(2).model_copy(update={"sender_key": "k1:a"}),  # same sender: counts once
            scored(3).model_copy(update={"sender_key": None}),  # anonymous web tip: its own
        ]
        await writer.write(tips)
        await writer.close()

    asyncio.run(run())
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT kind, value, tipsters, tips, best_tip_id FROM object_consensus "
            "WHERE object_ref = '5' ORDER BY kind, value"
        ).fetchall()
    assert rows == [
        ("city", "Graz", 2, 3, "s-3"),
        ("country", "AT", 2, 3, "s-3"),
        ("shop", "Lidl", 2, 3, "s-3"),
    ]


def test_cluster_figures_are_those_of_the_rows_whatever_the_tips_claim(database_url: str) -> None:
    """Issue 9 item 9: a replayed or miscounted tip claims a larger cluster than exists; the
    sink recomputes size and senders from the stored rows, in the same transaction."""

    async def run() -> None:
        writer = TipWriter(database_url)
        await writer.write([scored(0, size=1), scored(1, size=7)])  # 7: inflated in memory
        await writer.write([scored(1, size=9), scored(2, size=3, cluster="c-2")])  # replay
        await writer.close()

    asyncio.run(run())
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT cluster_id, size, distinct_senders, max_score FROM clusters ORDER BY 1"
        ).fetchall()
        stored = conn.execute(
            "SELECT bool_and(stored_at >= ingested_at AND stored_at IS NOT NULL) FROM tips"
        ).fetchone()
    assert rows == [("c-1", 2, 2, 41), ("c-2", 1, 1, 42)]
    assert stored == (True,)


def test_an_unreachable_database_asks_for_backpressure(database_url: str) -> None:
    from tipline.core.errors import SinkBackpressureError
    from tipline.embedded import free_port

    async def run() -> list[float]:
        writer = TipWriter(f"postgresql://127.0.0.1:{free_port()}/none", first_retry=0.5)
        waits = []
        for _ in range(3):
            try:
                await writer.write([scored(1)])
            except SinkBackpressureError as exc:
                waits.append(exc.retry_after)
        return waits

    assert asyncio.run(run()) == [0.5, 1.0, 2.0]


def test_sender_activity_reads_back_a_senders_recent_tips(database_url: str) -> None:
    async def run() -> list[tuple[datetime, str]]:
        writer = TipWriter(database_url)
        tips = [scored(i).model_copy(update={"sender_key": "k1:a"}) for i in range(5)]
        await writer.write([*tips, scored(9).model_copy(update={"sender_key": "k1:b"})])
        await writer.close()
        store = TipStore(database_url)
        events = await store.sender_events("k1:a", datetime(2026, 11, 3, 8, 2, tzinfo=UTC), 2)
        await store.close()
        return events

    events = asyncio.run(run())
    # The latest two of the sender's tips since 08:02, newest first; not the other sender's.
    assert [tip_id for _, tip_id in events] == ["s-4", "s-3"]


def test_sender_activity_of_many_senders_is_read_back_in_one_query(database_url: str) -> None:
    async def run() -> dict[str, list[tuple[datetime, str]]]:
        writer = TipWriter(database_url)
        tips = [scored(i).model_copy(update={"sender_key": "k1:a"}) for i in range(5)]
        await writer.write([*tips, scored(9).model_copy(update={"sender_key": "k1:b"})])
        await writer.close()
        store = TipStore(database_url)
        since = {
            "k1:a": datetime(2026, 11, 3, 8, 2, tzinfo=UTC),
            "k1:b": datetime(2026, 11, 3, 8, 0, tzinfo=UTC),
            "k1:nobody": datetime(2026, 11, 3, 8, 0, tzinfo=UTC),
        }
        found = await store.senders_events(since, 2)
        await store.close()
        return found

    found = asyncio.run(run())
    # Per sender as sender_events reads it: each key's latest two since its own start.
    assert {k: [tip_id for _, tip_id in v] for k, v in found.items()} == {
        "k1:a": ["s-4", "s-3"],
        "k1:b": ["s-9"],
    }


def test_a_batch_of_many_clusters_and_objects_takes_a_bounded_number_of_locks(
    database_url: str,
) -> None:
    """One advisory lock per object and per cluster overran PostgreSQL's shared lock table for
    a batch of a few thousand distinct keys ("out of shared memory"); the sink now locks hash
    buckets, so a transaction holds at most 64 per namespace whatever the batch."""
    from processors.app import crowd_rule

    held: list[int] = []

    async def count_locks(cur: psycopg.AsyncCursor[Any], batch: Sequence[ScoredTip]) -> None:
        await cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid()"
        )
        row = await cur.fetchone()
        held.append(int(row[0]) if row else -1)

    tips = [
        scored(1, cluster=f"c-{i}").model_copy(update={"tip_id": f"m-{i}", "object_ref": f"o{i}"})
        for i in range(600)
    ]

    async def run() -> tuple[int, int]:
        writer = TipWriter(database_url, crowd=crowd_rule(), after_insert=count_locks)
        first = await writer.write(tips)
        again = await writer.write(tips)  # a replay: nothing new, still bounded
        await writer.close()
        return first.inserted, again.inserted

    assert asyncio.run(run()) == (600, 0)
    assert count_rows(database_url) == 600
    # 600 objects and 600 clusters were 1,200 locks; the buckets bound them to 2 x 64.
    assert len(held) == 2
    assert 0 < held[0] <= 128
    assert held[1] <= 64  # a replay stages no row: no cluster to lock, only objects
