"""The contract: round-trips, limits and unknown fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from schemas import (
    MAX_BODY_CHARS,
    MAX_SUBJECT_CHARS,
    Cluster,
    DeadLetter,
    Evidence,
    RawTip,
    Reason,
    ScoredTip,
    Tip,
)

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def raw(**overrides: object) -> RawTip:
    fields: dict[str, object] = {
        "tip_id": "w-1",
        "channel": "web",
        "received_at": NOW,
        "object_ref": "7",
        "body": "Saw this bag in a Lidl in Graz",
    }
    fields.update(overrides)
    return RawTip.model_validate(fields)


def scored() -> ScoredTip:
    return ScoredTip(
        tip_id="m-abc",
        channel="email",
        received_at=NOW,
        object_ref="7",
        object_refs=("7", "12"),
        subject="Tasche",
        body="Die Tasche gibt es bei Rossmann",
        sender_key="k1:00ff",
        language="de",
        language_confidence=0.99,
        redactions={"EMAIL": 2},
        evidence=Evidence(countries=("DE",), shops=("Rossmann",), years=(2020,)),
        cluster=Cluster(
            cluster_id="c-1", representative_tip_id="m-abc", size=3, distinct_senders=2
        ),
        score=63,
        reasons=(Reason(feature="shop", text="names a shop chain: Rossmann", weight=18),),
        score_version="1",
    )


@pytest.mark.parametrize(
    "model", [raw(channel_meta={"sender": "a@b.c", "received": ["x", "y"]}), scored()]
)
def test_json_round_trip_is_lossless(model: RawTip | ScoredTip) -> None:
    again = type(model).model_validate_json(model.model_dump_json())
    assert again == model


def test_models_are_frozen() -> None:
    tip = raw()
    with pytest.raises(ValidationError):
        tip.body = "changed"  # type: ignore[misc]


def test_received_at_is_normalised_to_utc() -> None:
    local = datetime(2026, 11, 22, 11, 30, tzinfo=timezone(timedelta(hours=1)))
    assert raw(received_at=local).received_at == NOW
    assert raw(received_at=local).received_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"body": "x" * (MAX_BODY_CHARS + 1)}, "body", "at most 20000 characters"),
        ({"subject": "x" * (MAX_SUBJECT_CHARS + 1)}, "subject", "at most 500 characters"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"channel": "fax"}, "channel", "Input should be"),
        ({"tip_id": ""}, "tip_id", "at least 1 character"),
        ({"tip_id": "a b"}, "tip_id", "should match pattern"),
        ({"object_ref": "7; DROP TABLE"}, "object_ref", "should match pattern"),
        ({"received_at": "2026-11-22T10:30:00"}, "received_at", "timezone"),
        ({"schema_version": 2}, "schema_version", "Input should be 1"),
    ],
)
def test_invalid_input_names_the_field(
    overrides: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        raw(**overrides)
    errors = caught.value.errors()
    assert any(e["loc"][0] == field and message in e["msg"] for e in errors), errors


def test_limits_are_inclusive() -> None:
    tip = raw(body="x" * MAX_BODY_CHARS, subject="y" * MAX_SUBJECT_CHARS)
    assert len(tip.body) == MAX_BODY_CHARS


def test_clean_tip_has_no_place_for_channel_meta() -> None:
    data = json.loads(raw().model_dump_json())
    data["channel_meta"] = {"ip": "203.0.113.9"}
    with pytest.raises(ValidationError, match="channel_meta"):
        Tip.model_validate(data)


def test_partition_key_is_object_then_tip() -> None:
    assert raw().partition_key() == "7"
    assert raw(object_ref=None).partition_key() == "w-1"


def test_reason_reads_like_an_analyst_note() -> None:
    assert str(Reason(feature="x", text="no content beyond a link", weight=-20)) == (
        "no content beyond a link -20"
    )


def test_evidence_is_empty() -> None:
    assert Evidence().is_empty()
    assert not Evidence(years=(2019,)).is_empty()


def test_dead_letter_round_trip() -> None:
    record = DeadLetter(
        stage="clean",
        reason="body: too long",
        error="DecodeError",
        source_topic="tips.raw",
        partition=1,
        offset=5,
        failed_at=NOW,
    )
    assert DeadLetter.model_validate_json(record.model_dump_json()) == record
