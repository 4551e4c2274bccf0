"""Decoding at the edge and dead-letter records: clear reasons, no tipster data."""

from __future__ import annotations

import json

import pytest

from processors.codec import decode
from processors.deadletter import dead_letter, sanitise_payload
from schemas import RawTip
from tipline.core.errors import DecodeError, InvalidInputError

GOOD = {
    "tip_id": "w-1",
    "channel": "web",
    "received_at": "2026-11-22T10:30:00Z",
    "body": "Saw this bag in a Lidl in Graz",
}


def test_decode_good_message() -> None:
    assert decode(RawTip, json.dumps(GOOD).encode()).tip_id == "w-1"


@pytest.mark.parametrize(
    ("payload", "reason_start"),
    [
        (b"{not json", "message: Invalid JSON"),
        (
            json.dumps(GOOD | {"colour": "red"}).encode(),
            "(unknown field): Extra inputs are not permitted",
        ),
        (json.dumps(GOOD | {"body": "x" * 20_001}).encode(), "body: String should have at most"),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "body"}).encode(),
            "body: Field required",
        ),
        (None, "message: empty value"),
    ],
)
def test_decode_errors_name_the_field(payload: bytes | None, reason_start: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(RawTip, payload)
    assert caught.value.reason.startswith(reason_start)


def test_decode_error_never_quotes_the_input() -> None:
    secret = "call me on +43 660 1234567"
    with pytest.raises(DecodeError) as caught:
        decode(RawTip, json.dumps(GOOD | {"body": secret * 1000}).encode())
    assert "1234567" not in caught.value.reason


def test_sanitised_payload_drops_channel_meta_and_redacts_text() -> None:
    payload = json.dumps(
        GOOD
        | {
            "subject": "Lidl in Graz",
            "body": "mail me: anna.k@example.org",
            "channel_meta": {"ip": "203.0.113.7"},
        }
    ).encode()
    text = sanitise_payload(payload)
    assert "203.0.113.7" not in text
    assert "channel_meta" not in text
    assert "anna.k@example.org" not in text
    assert "Lidl in Graz" in text  # what is not identifying survives
    assert "2026-11-22T10:30:00Z" in text  # a timestamp is not a phone number
    assert "[EMAIL]" in text


def test_sanitised_payload_scrubs_unparseable_bytes() -> None:
    text = sanitise_payload(b"\xff\xfe garbage from 203.0.113.7 and bob@example.net")
    assert "203.0.113.7" not in text
    assert "bob@example.net" not in text


def test_dead_letter_reason_only_verbatim_for_invalid_input() -> None:
    invalid = dead_letter("clean", InvalidInputError("body: too long"), b"{}", source_topic="t")
    assert invalid.reason == "body: too long"
    crash = dead_letter("triage", KeyError("anna@example.org"), b"{}", source_topic="t")
    assert crash.reason == "unexpected error in stage triage: KeyError"
    assert "anna" not in crash.model_dump_json()


def test_payload_is_withheld_when_scrubbing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import processors.deadletter as module

    def broken(text: str, counts: object) -> str:
        raise NameError("a bug in a redaction rule")

    monkeypatch.setattr(module, "redact_text", broken)
    record = dead_letter("clean", InvalidInputError("x"), b"anna@example.org", source_topic="t")
    assert record.payload == "[payload withheld: scrubbing failed]"


# --- issue 9 item 3: no identity in dead letters, however malformed the record ----------------


def test_big_payload_is_parsed_before_it_is_cut() -> None:
    meta = {
        "h:from": "Jürgen Größmann <jg@example.org>",
        "h:received": "from mx.home-of-jg.example",
    }
    # channel_meta first: the old scrubber's cut left it in an unparseable prefix.
    payload = json.dumps({"channel_meta": meta} | GOOD | {"body": "Lidl " * 30_000}).encode()
    assert len(payload) > 100_000
    text = sanitise_payload(payload)
    assert "channel_meta" not in text
    assert "home-of-jg" not in text
    assert "Größmann" not in text
    assert len(text) <= 50_000


def test_broken_json_still_loses_channel_meta() -> None:
    raw = json.dumps(GOOD | {"channel_meta": {"h:user-agent": "Thunderbird 115 on jg-laptop"}})
    text = sanitise_payload(raw[:-3].encode())  # cut: no longer valid JSON
    assert "jg-laptop" not in text
    assert "channel_meta" not in text


def test_lone_surrogate_payload_gives_a_writable_dead_letter() -> None:
    letter = dead_letter(
        "decode", DecodeError("message: Invalid JSON"), b'{"body": "a\\ud800b"}', source_topic="t"
    )
    letter.model_dump_json().encode()  # must not raise


@pytest.mark.parametrize("key", ["anna.k@example.org", "203.0.113.7", "+43 660 1234567"])
def test_unknown_field_names_are_never_echoed(key: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(RawTip, json.dumps(GOOD | {key: "x"}).encode())
    assert key not in caught.value.reason
    assert "Extra inputs are not permitted" in caught.value.reason
    with pytest.raises(DecodeError) as caught:
        decode(RawTip, json.dumps(GOOD | {"channel_meta": {key: 1}}).encode())
    assert key not in caught.value.reason
    assert caught.value.reason.startswith("channel_meta.")


def test_lone_surrogate_is_a_decoding_failure() -> None:
    for data in (
        b'{"tip_id":"w-1","channel":"web","received_at":"2026-11-22T10:30:00Z","body":"a\\ud800"}',
        b'{"tip_id":"w-1","channel":"web","received_at":"2026-11-22T10:30:00Z","body":"a\xed\xa0\x80"}',
    ):
        with pytest.raises(DecodeError):
            decode(RawTip, data)
