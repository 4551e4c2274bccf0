"""Triage end to end: clusters, independent corroboration and consensus in the reviewer database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from ingest.producer import TipProducer
from review.queue import queue
from schemas import RawTip
from tests.integration.conftest import Worker, count_rows, wait_for
from tipline.core.settings import Settings
from tipline.core.topics import Topics

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def tip(n: int, body: str, sender: str, object_ref: str = "42") -> RawTip:
    return RawTip(
        tip_id=f"tr-{n:03d}",
        channel="email",
        received_at=BASE + timedelta(minutes=n),
        object_ref=object_ref,
        body=body,
        channel_meta={"sender": sender},
    )


def test_clusters_and_consensus_reach_the_database(settings: Settings, worker: Worker) -> None:
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    poland = [
        tip(1, "Made in Poland, I am quite sure of it.", "anna@example.org"),
        tip(2, "Ta torba jest z Polski, widziałam taką.", "piotr@example.pl"),
        tip(3, "Die Tasche ist aus Polen, kenne ich vom Urlaub.", "jonas@example.de"),
    ]
    ikea = [
        tip(10 + i, text, f"ikea{i}@example.org")
        for i, text in enumerate(
            [
                "Looks like the blue IKEA bag to me",
                "looks like the blue ikea bag to me!!",
                "Looks like the blue IKEA bag to me, really",
                "It looks like the blue IKEA bag to me",
            ]
        )
    ]
    flood = [
        tip(30 + i, "It is from Lidl. It is from Lidl.", "flood@example.com") for i in range(6)
    ]
    other_object = [tip(50, "Made in Poland, I am quite sure of it.", "anna@example.org", "43")]
    tips = poland + ikea + flood + other_object
    with TipProducer(settings.kafka, Topics.from_settings(settings).raw) as producer:
        producer.submit_many(tips)
    wait_for(lambda: count_rows(url) == len(tips), 90, "every triage tip")

    with psycopg.connect(url) as conn:
        consensus = {
            (kind, value): tipsters
            for kind, value, tipsters in conn.execute(
                "SELECT kind, value, tipsters FROM object_consensus WHERE object_ref = '42'"
            )
        }
        clusters = {
            cid: (size, senders)
            for cid, size, senders in conn.execute(
                "SELECT cluster_id, size, distinct_senders FROM clusters WHERE object_ref = '42'"
            )
        }
        cluster_of = dict(conn.execute("SELECT tip_id, cluster_id FROM tips").fetchall())
        corroboration = conn.execute(
            "SELECT corroboration FROM tips WHERE tip_id = 'tr-003'"
        ).fetchone()

    # Three languages, three independent tipsters, one country.
    assert consensus[("country", "PL")] == 3
    assert corroboration is not None
    assert {"kind": "country", "value": "PL", "senders": 3} in corroboration[0]
    # Near-duplicates form one cluster of four independent tipsters.
    ikea_clusters = {cluster_of[t.tip_id] for t in ikea}
    assert len(ikea_clusters) == 1
    assert clusters[ikea_clusters.pop()] == (4, 4)
    # A flood from one sender is one cluster and counts once.
    flood_clusters = {cluster_of[t.tip_id] for t in flood}
    assert len(flood_clusters) == 1
    assert clusters[flood_clusters.pop()] == (6, 1)
    # The same text about another object is not the same guess.
    assert cluster_of["tr-050"] != cluster_of["tr-001"]
    # The queue shows one line per cluster for the object.
    lines = queue(url, object_ref="42", limit=50)
    assert len(lines) == len(clusters)
    assert len({row[1] for row in lines}) == len(lines)


def test_dedupe_state_survives_a_worker_restart(settings: Settings, worker: Worker) -> None:
    """The new worker rebuilds the object's clusters from the reviewer database."""
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    topic = Topics.from_settings(settings).raw
    first = [
        tip(1, "Looks like the blue IKEA bag to me", "a@example.org"),
        tip(2, "looks like the blue ikea bag to me!!", "b@example.org"),
    ]
    with TipProducer(settings.kafka, topic) as producer:
        producer.submit_many(first)
        wait_for(lambda: count_rows(url) == 2, 60, "the first two tips")
        worker.stop()
        worker.start()
        producer.submit_many([tip(3, "It looks like the blue IKEA bag to me", "c@example.org")])
        wait_for(lambda: count_rows(url) == 3, 60, "the tip after the restart")
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tip_id, cluster_id FROM tips ORDER BY tip_id").fetchall()
        size = conn.execute("SELECT size, distinct_senders FROM clusters").fetchall()
    assert len({cluster for _, cluster in rows}) == 1, rows
    assert size == [(3, 3)]
    assert "restored dedupe state of object 42 from 2 tips" in worker.log()
