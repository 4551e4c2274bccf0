"""The sink writer against the real PostgreSQL: idempotent batches, refused rows isolated."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg

from review.sink import TipWriter
from schemas import Cluster, Evidence, ScoredTip
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


def test_batches_are_idempotent_and_clusters_only_grow(database_url: str) -> None:
    async def run() -> tuple[int, int, int]:
        writer = TipWriter(database_url)
        first = await writer.write([scored(i, size=i + 1) for i in range(3)])
        again = await writer.write([scored(i, size=i + 1) for i in range(3)])
        older = await writer.write([scored(0, size=1)])  # a replay of an old, smaller figure
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
