"""At-least-once in practice: a worker killed mid-stream loses nothing and duplicates nothing."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ingest.producer import TipProducer
from tests.integration.conftest import Worker, count_rows, wait_for
from tests.integration.test_pipeline import make_tips
from tipline.core.settings import Settings
from tipline.core.topics import Topics


def test_killed_worker_replays_into_the_idempotent_sink(settings: Settings, worker: Worker) -> None:
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    tips = make_tips(3000)
    with TipProducer(settings.kafka, Topics.from_settings(settings).raw) as producer:
        producer.submit_many(tips)
    # Kill -9 while the stream is mid-way: some tips stored, others in flight or not yet read.
    wait_for(lambda: count_rows(url) >= 300, 120, "the first tips to be stored")
    worker.kill()
    stored_at_kill = count_rows(url)
    assert stored_at_kill < len(tips), "the kill came too late to test anything"

    worker.start()
    wait_for(lambda: count_rows(url) >= len(tips), 180, "every tip after the restart")
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT tip_id FROM tips")]
    assert sorted(ids) == sorted(t.tip_id for t in tips)
    assert_clusters_match_their_rows(url)
    assert_clusters_match_their_rows(url)


def assert_clusters_match_their_rows(url: str) -> None:
    """Issue 9 item 9: after kills and replays every cluster's figures are those of its rows,
    and no cluster is without tips."""
    with psycopg.connect(url) as conn:
        wrong = conn.execute(
            "SELECT c.cluster_id, c.size, count(t.tip_id) FROM clusters c "
            "LEFT JOIN tips t ON t.cluster_id = c.cluster_id "
            "GROUP BY c.cluster_id, c.size, c.distinct_senders "
            "HAVING c.size <> count(t.tip_id) "
            "OR c.distinct_senders <> count(DISTINCT coalesce(t.sender_key, t.tip_id))"
        ).fetchall()
        clustered = conn.execute("SELECT count(DISTINCT cluster_id) FROM tips").fetchone()
        listed = conn.execute("SELECT count(*) FROM clusters").fetchone()
    assert wrong == []
    assert clustered == listed


def test_two_workers_share_the_stream_and_survive_losing_one(
    settings: Settings, worker: Worker, tmp_path: Path
) -> None:
    """Scale-out: a second worker joins the group; when one is killed the other takes over its
    partitions, and every tip still lands exactly once."""
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    second = Worker(env=worker.env, log_path=tmp_path / "worker-2.log")
    second.start()
    try:
        tips = make_tips(2000)
        with TipProducer(settings.kafka, Topics.from_settings(settings).raw) as producer:
            producer.submit_many(tips)
        wait_for(
            lambda: worker.sink_seen() > 0 and second.sink_seen() > 0, 120, "both workers to sink"
        )
        second.kill()
        wait_for(lambda: count_rows(url) >= len(tips), 180, "every tip on the surviving worker")
    finally:
        second.stop()
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT tip_id FROM tips")]
    assert sorted(ids) == sorted(t.tip_id for t in tips)
    assert_clusters_match_their_rows(url)
