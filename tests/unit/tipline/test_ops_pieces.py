"""Pure pieces of operations: JSON logs, spill records, dead-letter selection, port checks,
the status view and the Prometheus side of Counters."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from rich.console import Console

from schemas import DeadLetter
from tipline.cli import _since
from tipline.core.errors import ConfigurationError
from tipline.core.logs import JsonFormatter
from tipline.core.metrics import Counters
from tipline.core.settings import Settings
from tipline.deadletters import StoredDeadLetter, partition_key, replayable, select
from tipline.spill import Spilled
from tipline.status import Sample, render
from tipline.supervisor import check_ports, child_env, pick_ports


def letter(reason: str, minutes_ago: int, payload: str = "", topic: str = "tips.raw") -> DeadLetter:
    return DeadLetter(
        stage="clean",
        reason=reason,
        error="InvalidInputError",
        source_topic=topic,
        tip_id="t1",
        failed_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        payload=payload,
    )


def test_json_log_lines_carry_the_message_and_only_the_exception_type() -> None:
    try:
        raise ValueError("tip text that must not be logged")
    except ValueError:
        record = logging.LogRecord(
            "processors.app", logging.ERROR, __file__, 1, "tip %s failed", ("t-1",), None
        )
        import sys

        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "tip t-1 failed" and entry["level"] == "ERROR"
    assert entry["exc_type"] == "ValueError"
    assert "must not be logged" not in json.dumps(entry)


@pytest.mark.parametrize("key", [b"7", None])
def test_a_spilled_record_round_trips_bytes_exactly(key: bytes | None) -> None:
    record = Spilled("tips.raw", 3, key, b'{"body": "\xc3\xa9"}\x00')
    assert Spilled.parse(record.line()) == record


def test_dead_letters_are_selected_by_reason_time_and_id() -> None:
    letters = [
        StoredDeadLetter("0-1", letter("field 'body': too long", 120)),
        StoredDeadLetter("0-2", letter("database refused the row: CheckViolation", 5)),
        StoredDeadLetter("1-0", letter("database refused the row: DataError", 1)),
    ]
    assert [d.id for d in select(letters, reason="DATABASE")] == ["0-2", "1-0"]
    since = datetime.now(UTC) - timedelta(minutes=10)
    assert [d.id for d in select(letters, since=since)] == ["0-2", "1-0"]
    assert [d.id for d in select(letters, ids=["0-1"])] == ["0-1"]


def test_only_dead_letters_with_a_payload_for_an_input_topic_are_replayed() -> None:
    topics = ("tips.raw", "tips.clean", "tips.scored")
    assert replayable(letter("x", 1, payload="{}"), topics)
    assert not replayable(letter("x", 1), topics)
    assert not replayable(letter("x", 1, payload="[payload withheld: scrubbing failed]"), topics)
    assert not replayable(letter("x", 1, payload="{}", topic="elsewhere"), topics)


def test_a_replayed_tip_is_keyed_by_its_object_like_the_stages_key_it() -> None:
    assert partition_key(letter("x", 1, payload='{"object_ref": "7", "tip_id": "t1"}')) == b"7"
    assert partition_key(letter("x", 1, payload='{"tip_id": "t9"}')) == b"t9"
    assert partition_key(letter("x", 1, payload="{not json")) == b"t1"


@pytest.mark.parametrize(
    ("text", "ago"),
    [("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("7d", timedelta(days=7))],
)
def test_since_takes_spans(text: str, ago: timedelta) -> None:
    assert abs((datetime.now(UTC) - _since(text)) - ago) < timedelta(seconds=5)


def test_since_takes_iso_times_as_utc() -> None:
    assert _since("2026-11-30T12:00") == datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_check_ports_names_every_taken_port() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(ConfigurationError, match=f"web intake 127.0.0.1:{port}"):
            check_ports([("web intake", "127.0.0.1", port), ("ops", "127.0.0.1", 0)])


def test_port_zero_is_chosen_once_for_the_banner_and_the_children() -> None:
    settings = Settings(
        web_port=0,
        review_port=0,
        smtp_port=2626,
        kafka="127.0.0.1:9092",
        database_url=SecretStr("postgresql:///x"),
    )
    picked = pick_ports(settings)
    assert picked.web_port > 0 and picked.review_port > 0
    assert picked.smtp_port == 2626  # a port given is kept
    env = child_env(picked, b"secret")
    assert env["TIPLINE_WEB_PORT"] == str(picked.web_port)
    assert env["TIPLINE_REVIEW_PORT"] == str(picked.review_port)
    assert pick_ports(picked) is picked  # nothing left to choose


def test_counters_feed_prometheus_as_well_as_the_log_line() -> None:
    before = REGISTRY.get_sample_value("tipline_tips_triaged_total") or 0.0
    Counters().add("tips_triaged", 4)
    assert REGISTRY.get_sample_value("tipline_tips_triaged_total") == before + 4


def test_status_view_shows_health_rates_and_lag() -> None:
    earlier = Sample("worker-1", True, "ready", {"tipline_tips_stored_total": 10}, at=1.0)
    now = Sample(
        "worker-1",
        True,
        "ready",
        {"tipline_tips_stored_total": 30, "tipline_tips_cleaned_total": 31},
        {("tips.raw", "0"): 4.0},
        at=3.0,
    )
    down = Sample("web", False, "down")
    console = Console(width=200, record=True)
    console.print(render([now, down], {"worker-1": earlier}))
    text = console.export_text()
    assert "worker-1" in text and "ready" in text and "10.0" in text  # 20 stored in 2 s
    assert "web" in text and "down" in text
    assert "tips.raw" in text and "4" in text
