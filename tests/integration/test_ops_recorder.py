"""The worker's ops recorder against the real embedded broker and PostgreSQL: the group's lag
per topic and the dead letters' metadata reach the tables the console's /ops page reads, once
each however many workers record, and never the dead letter's payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from schemas import DeadLetter
from tipline.core.settings import Settings
from tipline.core.topics import Topics
from tipline.deadletters import DeadLetterCollector, StoredDeadLetter
from tipline.lag import LagCollector
from tipline.ops_recorder import OpsRecorder

TIP_TEXT = "Anna Berger at Hauptstrasse 5 has the bag"


def test_lag_and_dead_letters_reach_the_database(settings: Settings) -> None:
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    topics = Topics.from_settings(settings)
    producer = KafkaProducer(bootstrap_servers=settings.kafka.split(","), acks="all")
    for _ in range(7):
        producer.send(topics.raw, key=b"k", value=b"{}", partition=0)
    now = datetime.now(UTC)
    letter = DeadLetter(
        stage="clean",
        reason="body: text is empty after normalisation",
        error="RejectedContentError",
        source_topic=topics.raw,
        partition=0,
        offset=3,
        tip_id="rec-1",
        failed_at=now,
        payload=TIP_TEXT,
    )
    producer.send(topics.dead, key=b"rec-1", value=letter.model_dump_json().encode(), partition=0)
    producer.flush()
    producer.close()
    group = KafkaConsumer(
        bootstrap_servers=settings.kafka.split(","),
        group_id=settings.app_id,
        enable_auto_commit=False,
    )
    try:
        group.commit({TopicPartition(topics.raw, 0): OffsetAndMetadata(2, "", -1)})
    finally:
        group.close()

    collectors: list[DeadLetterCollector] = []

    def recorder() -> OpsRecorder:
        lag = LagCollector(settings.kafka or "", (topics.raw, topics.clean), settings.app_id)
        dead = DeadLetterCollector(settings.kafka or "", topics.dead)
        collectors.append(dead)

        def new() -> list[StoredDeadLetter]:
            dead.refresh()
            return dead.take_new()

        return OpsRecorder(url, lag.lags, new, timedelta(days=30))

    first, second = recorder(), recorder()  # two workers, same slot
    try:
        first.tick(now)
        second.tick(now)
        first.tick(now)  # nothing new on the dead-letter topic: nothing more stored
    finally:
        for dead in collectors:
            dead.close()
    with psycopg.connect(url) as conn:
        lag_rows = conn.execute("SELECT topic, lag FROM ops_lag ORDER BY topic").fetchall()
        letters = conn.execute(
            "SELECT stage, error, reason, tip_id, dead_id FROM dead_letter_log"
        ).fetchall()
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'dead_letter_log'"
            )
        ]
    assert lag_rows == [(topics.clean, 0), (topics.raw, 5)]  # 7 written, 2 committed
    assert letters == [
        ("clean", "RejectedContentError", "body: text is empty after normalisation", "rec-1", "0-0")
    ]
    assert "payload" not in columns
