"""`tipline dead replay` after a fix: a tip the database refused is dead-lettered, the cause is
removed, and the replay stores it — end to end through the real worker."""

from __future__ import annotations

import re
import urllib.request
from datetime import UTC, datetime

import psycopg

from ingest.producer import TipProducer
from schemas import RawTip
from tests.integration.conftest import Worker, settings_env, tipline_cli, wait_for
from tipline.core.settings import Settings
from tipline.core.topics import Topics
from tipline.deadletters import read_stored


def tipline(settings: Settings, *args: str) -> str:
    return tipline_cli(*args, env=settings_env(settings))


def stored(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return {row[0] for row in conn.execute("SELECT tip_id FROM tips")}


def test_a_refused_tip_is_replayed_after_the_fix(settings: Settings, worker: Worker) -> None:
    assert settings.kafka and settings.database_url
    url = settings.database_url.get_secret_value()
    # The "bug": a constraint that refuses some good tips (as a wrong migration would).
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE tips ADD CONSTRAINT no_zebra CHECK (body NOT LIKE '%Zebra%')")
    topics = Topics.from_settings(settings)
    tips = [
        RawTip(
            tip_id=f"replay-{i}",
            channel="web",
            received_at=datetime.now(UTC),
            object_ref="7",
            body=f"The Zebra bag is sold at Rossmann in Wien, branch {i}" if i < 2 else "Lidl Graz",
        )
        for i in range(3)
    ]
    with TipProducer(settings.kafka, topics.raw) as producer:
        producer.submit_many(tips)
    wait_for(lambda: "replay-2" in stored(url), 60, "the good tip stored")
    wait_for(lambda: len(read_stored(settings.kafka or "", topics.dead)) == 2, 60, "2 dead")

    # The worker's /metrics counts them by stage and error class.
    ops = re.search(r"ops endpoints on (http://\S+)", worker.log())
    assert ops
    with urllib.request.urlopen(f"{ops.group(1)}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    assert 'tipline_dead_letters_on_topic{error="RowRefusedError",stage="sink"} 2.0' in metrics

    listed = tipline(settings, "dead", "list", "--reason", "CheckViolation", "--since", "1h")
    assert "replay-0" in listed and "replay-1" in listed
    first_id = listed.split()[0]
    shown = tipline(settings, "dead", "show", first_id)
    assert '"stage": "sink"' in shown and "Zebra" in shown

    # After the fix, a replay stores both and nothing is dead-lettered again.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE tips DROP CONSTRAINT no_zebra")
    out = tipline(settings, "dead", "replay", "--reason", "CheckViolation")
    assert out.startswith("replayed 2 of 2")
    wait_for(lambda: {"replay-0", "replay-1"} <= stored(url), 60, "replayed tips stored")
    assert len(read_stored(settings.kafka, topics.dead)) == 2  # nothing failed again
