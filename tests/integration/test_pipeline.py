"""End to end on the real embedded broker and PostgreSQL: producer → worker → database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
from kafka import KafkaProducer

from ingest.producer import TipProducer
from schemas import RawTip
from tests.integration.conftest import Worker, count_rows, wait_for
from tipline.core.metrics import METRICS
from tipline.core.settings import Settings
from tipline.core.topics import Topics
from tipline.deadletters import read_dead_letters

BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TEXTS = [
    "Saw this bag in a Lidl in Graz",
    "Die Tasche gibt es bei Rossmann in Wien",
    "Sac Leclerc vu à Lyon",
    "Ta torba jest z Biedronki, Kraków",
    "Questa bottiglia è di Esselunga, Milano",
]


def worker_metrics(log: str) -> dict[str, int]:
    """The sums of every metric the worker logged."""
    totals: dict[str, int] = dict.fromkeys(METRICS, 0)
    for line in re.findall(r"metrics over [\d.]+s: (.*)", log):
        for name, value in re.findall(r"(\w+)=(\d+)", line):
            totals[name] += int(value)
    return totals


def make_tips(n: int) -> list[RawTip]:
    return [
        RawTip(
            tip_id=f"it-{i:05d}",
            channel="email",
            received_at=BASE + timedelta(seconds=i),
            object_ref=str(i % 7),
            subject=f"object {i % 7}",
            body=f"{TEXTS[i % len(TEXTS)]} (variant {i})",
            channel_meta={
                "sender": f"tipster{i}@example.org",
                "ip": f"198.51.100.{i % 250}",
                "received": f"from mail{i}.example.net by mx.tipline.test",
            },
        )
        for i in range(n)
    ]


def test_thousand_tips_stored_once_without_channel_meta(settings: Settings, worker: Worker) -> None:
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    tips = make_tips(1000)
    with TipProducer(settings.kafka, Topics.from_settings(settings).raw) as producer:
        assert producer.submit_many(tips) == 1000
        wait_for(lambda: count_rows(url) >= 1000, 120, "1,000 rows")
        assert worker.sink_seen() >= 1000

        # The same 1,000 again: the idempotent sink must not add a row.
        producer.submit_many(tips)
        wait_for(lambda: worker.sink_seen() >= 2000, 120, "the replayed tips to reach the sink")

    assert count_rows(url) == 1000
    # The worker's metrics add up to what happened: 1,000 stored, 1,000 found stored on replay.
    metrics = wait_for(
        lambda: (m := worker_metrics(worker.log()))["tips_already_stored"] >= 1000 and m,
        10,
        "the metrics line",
    )
    assert metrics["tips_stored"] == 1000 and metrics["tips_already_stored"] == 1000
    assert metrics["tips_cleaned"] == 2000 and metrics["dead_letters"] == 0
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute("SELECT tip_id FROM tips ORDER BY tip_id")]
        assert ids == sorted(t.tip_id for t in tips)
        rows = {r[0]: r[1] for r in conn.execute("SELECT tip_id, t::text FROM tips t")}
    for tip in tips:
        row_text = rows[tip.tip_id]
        for value in tip.channel_meta.values():
            assert isinstance(value, str)
            assert value not in row_text, f"channel_meta leaked into {tip.tip_id}"
        assert "channel_meta" not in row_text


def test_malformed_messages_are_dead_lettered_and_worker_keeps_going(
    settings: Settings, worker: Worker
) -> None:
    assert settings.kafka and settings.database_url
    topics = Topics.from_settings(settings)
    good = make_tips(1)[0]
    unknown_field = good.model_dump(mode="json") | {"tip_id": "bad-field", "colour": "red"}
    oversize = good.model_dump(mode="json") | {"tip_id": "bad-size", "body": "x" * 20_001}
    raw = KafkaProducer(bootstrap_servers=settings.kafka, acks="all")
    import json

    raw.send(topics.raw, key=b"k", value=b"{not json at all, mail me at a.b@example.org")
    raw.send(topics.raw, key=b"k", value=json.dumps(unknown_field).encode())
    raw.send(topics.raw, key=b"k", value=json.dumps(oversize).encode())
    # A lone surrogate once crashed the clean agent and stalled its partition (issue 10).
    surrogate = json.dumps(good.model_dump(mode="json") | {"body": "x\ud800y"}).encode()
    raw.send(topics.raw, key=b"k", value=surrogate)
    raw.send(topics.raw, key=b"k", value=good.model_dump_json().encode())
    raw.flush()
    raw.close()

    url = settings.database_url.get_secret_value()
    wait_for(lambda: count_rows(url) == 1, 60, "the good tip after the bad ones")
    dead = wait_for(
        lambda: (d := read_dead_letters(settings.kafka or "", topics.dead)) and len(d) >= 4 and d,
        30,
        "four dead letters",
    )
    reasons = sorted(d.reason for d in dead)
    assert len(dead) == 4
    assert any("Invalid JSON" in r for r in reasons)
    assert any(r.startswith("(unknown field): Extra inputs are not permitted") for r in reasons)
    assert any(r.startswith("body: String should have at most 20000 characters") for r in reasons)
    for record in dead:
        assert record.stage == "clean"
        assert "a.b@example.org" not in record.payload
        assert "tipster0@example.org" not in record.payload  # channel_meta dropped
        assert "198.51.100." not in record.payload
    assert worker.proc is not None and worker.proc.poll() is None
