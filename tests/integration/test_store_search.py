"""The search chunks (migration 110) against the real PostgreSQL: the console's search finds
exactly the tips whose body or subject matches, as soon as they are committed, and a tip's text
never outlives it in the chunks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg
import pytest

from review.api_queries import QueueFilter, like_escape, queue_query
from schemas import Cluster, ScoredTip
from store.sink import TipWriter

BODIES = (
    "Ich habe die Tasche bei Rossmann in Graz gesehen",
    "Видел эту сумку в Вене, ул. Мариахильфер",
    "Την είδα σε ένα ΠΕΡΊΠΤΕΡΟ στην Αθήνα",
    "sold at Lidl, 100%_sure",
    "nothing here",
)


def tip(n: int, body: str, subject: str = "") -> ScoredTip:
    return ScoredTip(
        tip_id=f"q-{n:03d}",
        channel="email" if subject else "web",
        received_at=datetime(2026, 11, 3, 8, n % 60, tzinfo=UTC),
        object_ref="5",
        subject=subject,
        body=body,
        cluster=Cluster(
            cluster_id=f"c-{n}", representative_tip_id=f"q-{n:03d}", size=1, distinct_senders=1
        ),
        score=40,
        score_version="test",
    )


def store(url: str, tips: list[ScoredTip]) -> None:
    async def run() -> None:
        writer = TipWriter(url)
        await writer.write(tips)
        await writer.close()

    asyncio.run(run())


def found(conn: psycopg.Connection, text: str) -> set[str]:
    sql, params = queue_query(QueueFilter(search=text, limit=200))
    return {str(row[0]) for row in conn.execute(sql, params).fetchall()}


def ilike(conn: psycopg.Connection, text: str) -> set[str]:
    """What the search must return: every new tip whose own body or subject matches."""
    pattern = "%" + like_escape(text) + "%"
    rows = conn.execute(
        "SELECT tip_id FROM tips WHERE status = 'new' AND (body ILIKE %s OR subject ILIKE %s)",
        (pattern, pattern),
    ).fetchall()
    return {str(row[0]) for row in rows}


# More tips than one chunk holds (256), so chunks of one batch are found apart.
TIPS = [
    tip(i, BODIES[i % len(BODIES)], subject="Objekt Graz" if i % 7 == 0 else "") for i in range(300)
]


@pytest.mark.parametrize(
    "text",
    [
        "rossm",
        "GRAZ",
        "objekt g",
        "вене",
        "ул.",
        "περίπτερο",
        "100%_",
        "100%x",
        "gesehen\nВидел",
        "gesehenвидел",
        "zzqx",
        "e",
    ],
)
def test_search_finds_exactly_the_matching_tips(database_url: str, text: str) -> None:
    store(database_url, TIPS)
    with psycopg.connect(database_url) as conn:
        expected = ilike(conn, text)
        assert found(conn, text) == expected
        if text in ("rossm", "GRAZ", "вене", "περίπτερο", "100%_", "e"):
            assert expected  # the case is not empty by accident
        if text.startswith("gesehen"):
            # Two tips' texts meet inside a chunk: that is no tip's match.
            assert expected == set()


def test_a_tip_is_searchable_in_the_transaction_that_stores_it(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO tips (tip_id, channel, received_at, subject, body, language,"
            " language_confidence, redactions, evidence, attachments, corroboration, score,"
            " reasons, score_version, record) VALUES ('imp-1', 'import', now(), '',"
            " 'seen at Müller in Linz', 'en', 1, '[]', '{}', '[]', '[]', 10, '[]', 'x', '{}')"
        )
        assert found(conn, "MÜLLER") == {"imp-1"}  # before the commit, in the writer's view
    with psycopg.connect(database_url) as conn:
        assert found(conn, "müller in") == {"imp-1"}


def test_changed_or_deleted_text_leaves_the_chunks(database_url: str) -> None:
    store(database_url, TIPS[:10])
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE tips SET body = 'seen in Salzburg' WHERE tip_id = 'q-000'")
        conn.execute("DELETE FROM tips WHERE tip_id = 'q-001'")
        conn.commit()
        chunks = conn.execute("SELECT tip_ids, doc FROM tip_search").fetchall()
        ids = sorted(i for row in chunks for i in row[0])
        assert ids == sorted(["q-000"] + [t.tip_id for t in TIPS[2:10]])
        docs = "\n".join(str(row[1]) for row in chunks)
        # q-000's old text is still q-005's ("Rossmann in Graz"): only one copy of it is left.
        assert docs.count("rossmann in graz") == 1
        assert docs.count("мариахильфер") == 1  # q-001's copy is gone, q-006's is left
        assert "salzburg" in docs
        assert found(conn, "salzburg") == {"q-000"}
        assert found(conn, "видел") == {"q-006"}
        assert conn.execute("SELECT count(*) FROM tip_search").fetchone() == (1,)
