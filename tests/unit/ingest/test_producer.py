"""The producer without a broker: what ``encode`` may hand to Kafka, the client options, and
when the broker counts as silent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from ingest.producer import MAX_RECORD_BYTES, broker_silent, encode, producer_config
from schemas import RawTip
from tipline.core.errors import RejectedContentError
from tipline.core.security import kafka_python_options
from tipline.core.settings import Settings

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_oversized_channel_meta_is_trimmed_not_refused() -> None:
    meta: dict[str, str | list[str]] = {f"h:x-{i}": "\x01" * 2_000 for i in range(200)}
    meta |= {"transport": "smtp", "sender": "jg@example.org"}
    tip = RawTip(
        tip_id="m-1", channel="email", received_at=NOW, body="𝔊" * 20_000, channel_meta=meta
    )
    key, value = encode(tip)
    assert len(value) <= MAX_RECORD_BYTES
    record = json.loads(value)
    assert record["body"] == tip.body
    # What the clean stage needs from the metadata survives the trim.
    assert record["channel_meta"]["sender"] == "jg@example.org"
    assert record["channel_meta"]["meta_truncated"] == "true"
    assert key == b"m-1"


@pytest.mark.parametrize(
    "update",
    [{"body": "a\ud800b"}, {"subject": "\udcfc"}, {"channel_meta": {"h:from": "J\udcc3rgen"}}],
)
def test_lone_surrogate_is_refused_permanently(update: dict[str, object]) -> None:
    # model_copy does not validate: the path by which a surrogate once reached the producer.
    tip = RawTip(tip_id="w-1", channel="web", received_at=NOW, body="x").model_copy(update=update)
    with pytest.raises(RejectedContentError):
        encode(tip)


def test_producer_config_is_acks_all_idempotent_and_takes_the_security_options() -> None:
    sasl = Settings(
        kafka="b1:9092,b2:9092",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="tipline",
        kafka_sasl_password=SecretStr("pw-0123456789"),
        kafka_ssl_cafile=Path("/etc/kafka-ca.pem"),
    )
    config = producer_config("b1:9092,b2:9092", **kafka_python_options(sasl))
    assert config["bootstrap_servers"] == ["b1:9092", "b2:9092"]
    assert (config["acks"], config["enable_idempotence"]) == ("all", True)
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_mechanism"] == "SCRAM-SHA-512"
    assert config["sasl_plain_username"] == "tipline"
    assert config["sasl_plain_password"] == "pw-0123456789"
    assert config["ssl_cafile"] == "/etc/kafka-ca.pem"
    # A request to a frozen broker is abandoned (and retried elsewhere) well before the
    # intake stops waiting; retries are bounded in time, not in number.
    assert config["request_timeout_ms"] < 8000
    assert config["kafka_client"].keywords["socket_connection_setup_timeout_ms"] < 8000
    assert "retries" not in config and config["delivery_timeout_ms"] >= 30_000
    assert "security_protocol" not in producer_config("b1:9092")


STALL = 3.0


@pytest.mark.parametrize(
    ("oldest_pending", "last_ack", "last_failure", "silent"),
    [
        (None, None, None, False),  # nothing sent yet
        (None, 10.0, 50.0, False),  # nothing waits: a past failure is not a stall
        (99.0, None, None, False),  # waiting 1 s: not yet a stall
        (90.0, None, None, True),  # waiting 10 s, never acknowledged
        (90.0, 91.0, None, True),  # waiting 10 s, last ack 9 s ago: the broker is silent
        (90.0, 99.5, None, False),  # one broker's partitions wait; the others are acked
        (99.0, 98.0, 98.5, True),  # the latest outcome is a failure and records wait
        (99.0, 98.6, 98.5, False),  # acknowledged since the failure
    ],
)
def test_broker_silent_only_when_nothing_is_acknowledged(
    oldest_pending: float | None, last_ack: float | None, last_failure: float | None, silent: bool
) -> None:
    assert broker_silent(100.0, oldest_pending, last_ack, last_failure, STALL) is silent
