"""Poison records on every topic's model, and a leak audit of the clean stage's outputs.

Poison: every kind of malformed record a topic can carry must decode to ``DecodeError`` (never
another exception, which would stop the worker) and give a dead letter that is writable and
holds no identifier. Leak audit: tips carrying known identifiers in every place a channel puts
them (headers, addresses, handles, phones, IPs, Message-IDs, sender fields) go through the
adapters and the clean stage; the clean records, every dead letter and every log line are
searched for each identifier, and every hit is listed.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from ingest.bulk import row_to_tip
from ingest.mime import parse_message
from ingest.tip_ids import TipIds
from processors.codec import decode
from processors.deadletter import dead_letter
from processors.language import detect_language
from processors.normalise import normalise
from processors.redact import redact
from processors.sender_key import SenderKeyer
from schemas import DeadLetter, RawTip, ScoredTip, Tip
from tipline.core.errors import DecodeError

IDS = TipIds(b"reliability-tip-ids-0123456789")
KEYS = SenderKeyer("k1", b"reliability-sender-0123456789")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GOOD = {"tip_id": "w-1", "channel": "web", "received_at": "2026-12-01T12:00:00Z", "body": "Lidl"}

# Known identifiers: none of these may appear downstream of tips.raw.
SECRETS = {
    "address": "juergen.groessmann@example.org",
    "name": "Größmann",
    "host": "jg-laptop.home.example",
    "handle": "@jg_tipster",
    "phone": "+43 664 1234567",
    "phone_digits": "1234567",
    "ip": "198.51.100.23",
    "message_id": "<leak-audit-4711@example.org>",
    "user_agent": "Thunderbird-LeakAudit/115",
}


def _poison() -> list[tuple[str, bytes | None]]:
    meta = {"channel_meta": {SECRETS["address"]: SECRETS["ip"], "h:from": SECRETS["address"]}}
    return [
        ("tombstone", None),
        ("empty", b""),
        ("not json", b"{not json " + SECRETS["address"].encode()),
        ("lone surrogate escape", json.dumps(GOOD).replace('"Lidl"', '"a\\ud800"').encode()),
        (
            "surrogate as utf-8",
            json.dumps(GOOD).replace("Lidl", "a\udcff", 1).encode("utf-8", "surrogatepass"),
        ),
        ("invalid utf-8", json.dumps(GOOD).encode().replace(b"Lidl", b"\xff\xfe")),
        ("nul", json.dumps(GOOD | {"body": "a\x00b"}).encode() + b"\x00"),
        ("bom", b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"x"),
        ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
        (
            "huge number",
            json.dumps(GOOD).encode()[:-1] + b', "schema_version": 1' + b"9" * 5000 + b"}",
        ),
        ("wrong types", json.dumps(GOOD | {"body": 5, "received_at": [1]}).encode()),
        ("address as key", json.dumps(GOOD | {SECRETS["address"]: 1}).encode()),
        ("meta first, huge", json.dumps(meta | GOOD | {"body": "x" * 200_000}).encode()),
        ("array", b"[1, 2, 3]"),
        ("string", b'"' + SECRETS["phone"].encode() + b'"'),
    ]


@pytest.mark.parametrize("model", [RawTip, Tip, ScoredTip], ids=lambda m: m.__name__)
def test_poison_records_are_dead_lettered_clean(model: type[RawTip | Tip | ScoredTip]) -> None:
    hits = []
    for kind, payload in _poison():
        with pytest.raises(DecodeError) as caught:
            decode(model, payload)
        letter = dead_letter("decode", caught.value, payload, source_topic="tips.raw")
        written = letter.model_dump_json()
        DeadLetter.model_validate_json(written)
        for what, secret in SECRETS.items():
            if secret in written:
                hits.append(f"{model.__name__}/{kind}: {what}")
    assert hits == []


def _clean(raw: RawTip) -> Tip:
    return detect_language(redact(normalise(raw), KEYS))


def test_leak_audit_of_the_clean_stage(caplog: pytest.LogCaptureFixture) -> None:
    mail = (
        f"From: Jürgen {SECRETS['name']} <{SECRETS['address']}>\r\n"
        f"Received: from {SECRETS['host']} ([{SECRETS['ip']}])\r\n"
        f"User-Agent: {SECRETS['user_agent']}\r\n"
        f"Message-ID: {SECRETS['message_id']}\r\n"
        "Subject: Tasche\r\nContent-Type: text/plain; charset=utf-16\r\n\r\n"
        f"Die Tasche ist von Lidl in Graz. Ruft mich an: {SECRETS['phone']}, "
        f"Mail {SECRETS['address']}, Mastodon {SECRETS['handle']}.\r\n"
        f"Viele Grüße\r\nJürgen {SECRETS['name']}\r\n"
    ).encode()
    raws = [
        parse_message(
            mail,
            received_at=NOW,
            store_image=None,
            transport="smtp",
            ids=IDS,
            envelope_from=SECRETS["address"],
        ),
        row_to_tip(
            {
                "id": SECRETS["message_id"],
                "text": f"Lidl. Tel {SECRETS['phone']}",
                "sender": SECRETS["address"],
            },
            ids=IDS,
            now=NOW,
        ),
        RawTip(
            tip_id="w-audit",
            channel="web",
            received_at=NOW,
            body=f"Gesehen bei Lidl, IP {SECRETS['ip']}, {SECRETS['handle']}",
            channel_meta={"ip": SECRETS["ip"], "sender": SECRETS["ip"]},
        ),
    ]
    hits = []
    with caplog.at_level(logging.DEBUG):
        for raw in raws:
            # The id a tipster's copy of the mail or the exporter's row id would give: keyed.
            for what in ("message_id", "address"):
                if SECRETS[what].strip("<>") in raw.tip_id:
                    hits.append(f"tip id: {what}")
            tip = _clean(raw)
            record = tip.model_dump_json()
            for what, secret in SECRETS.items():
                if secret in record:
                    hits.append(f"tips.clean {raw.tip_id}: {what}")
            letter = dead_letter(
                "clean",
                ValueError(SECRETS["address"]),
                raw.model_dump_json().encode(),
                source_topic="tips.raw",
            )
            for what, secret in SECRETS.items():
                if secret in letter.model_dump_json():
                    hits.append(f"tips.dead {raw.tip_id}: {what}")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for what, secret in SECRETS.items():
        if secret in logged:
            hits.append(f"log: {what}")
    assert hits == []
