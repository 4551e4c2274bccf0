"""Naughty strings through every field of every channel, then through the clean stage.

For each of the ~550 strings: the form (text), the partner API (subject, body, message id,
object ref), the webhook (id, text, subject, sender, object ref), a mail (subject header as raw
UTF-8, body) and an import row (every column). The channel must answer without a 5xx; what it
accepts must encode for the broker and come out of normalise → redact → detect_language as a
valid Tip; nothing may raise anything but our refusals.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ingest.bulk import row_to_tip
from ingest.memory import MemorySink
from ingest.mime import parse_message
from ingest.photos import MediaStore
from ingest.producer import encode
from ingest.tip_ids import TipIds
from ingest.web import create_app
from ingest.webhook import sign
from processors.language import detect_language
from processors.normalise import normalise
from processors.redact import redact
from processors.sender_key import SenderKeyer
from schemas import RawTip, Tip
from tests.reliability.naughty import SURROGATE_JSON, SURROGATE_UTF8, strings
from tipline.core.errors import InvalidInputError
from tipline.core.settings import Settings

API_KEY = "acme-key-0123456789abcdef"
HOOK_SECRET = "hook-secret-0123456789abcdef"
IDS = TipIds(b"reliability-tip-ids-0123456789")
KEYS = SenderKeyer("k1", b"reliability-sender-0123456789")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# Free-text fields see every string; id-like fields (mostly refused by their pattern) every 4th.
ID_FIELD_SAMPLE = 4


def clean(raw: RawTip) -> Tip:
    """The clean flow, stage by stage (processors/app.py wires the same three)."""
    encode(raw)  # what the producer would refuse, it refuses permanently
    tip = detect_language(redact(normalise(raw), KEYS))
    Tip.model_validate_json(tip.model_dump_json())
    return tip


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, MemorySink]:
    sink = MemorySink()
    settings = Settings(
        web_secure_cookies=False,
        web_api_keys={"acme": SecretStr(API_KEY)},
        webhook_secrets={"partner": SecretStr(HOOK_SECRET)},
        web_source_rate=1e6,
        web_source_burst=1_000_000,
        web_partner_rate=1e6,
        web_partner_burst=1_000_000,
        web_global_rate=1e6,
        web_global_burst=1_000_000,
        data_dir=tmp_path_factory.mktemp("data"),
    )
    media = MediaStore(tmp_path_factory.mktemp("media"))
    return TestClient(create_app(settings, sink, media), client=("203.0.113.5", 1)), sink


def _csrf(client: TestClient) -> str:
    page = client.get("/objects/obj-1?lang=en").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def _clean_all(sink: MemorySink) -> int:
    count = len(sink.tips)
    for raw in sink.tips:
        clean(raw)
    sink.tips.clear()
    return count


def test_form_and_api(app_client: tuple[TestClient, MemorySink]) -> None:
    client, sink = app_client
    token = _csrf(client)
    codes: list[int] = []
    for i, text in enumerate(strings()):
        form = client.post(
            "/objects/obj-1/tips",
            data={"csrf": token, "text": text, "submission": f"{i:022d}"},
            files={"photo": ("", b"", "image/jpeg")},
        )
        codes.append(form.status_code)
        payloads: list[dict[str, str]] = [
            {"message_id": f"m-{i}", "body": text, "subject": text[:500]}
        ]
        if i % ID_FIELD_SAMPLE == 0:  # id fields: a sample keeps the folder within its budget
            payloads.append(
                {"message_id": text[:64] or "x", "body": "Lidl", "object_ref": text[:64] or "x"}
            )
        for payload in payloads:
            response = client.post(
                "/api/tips", json=payload, headers={"authorization": f"Bearer {API_KEY}"}
            )
            codes.append(response.status_code)
    assert max(codes) < 500, sorted(set(codes))
    assert codes.count(200) + codes.count(202) > len(strings()) * 3 // 2  # most are tips
    _clean_all(sink)
    # Lone surrogates in each encoding the form and the API can carry.
    raw_form = b"csrf=" + token.encode() + b"&text=" + b"%ED%A0%80" + b"&submission=x"
    response = client.post(
        "/objects/obj-1/tips",
        content=raw_form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code < 500
    body = '{"message_id": "s-1", "body": ' + SURROGATE_JSON + "}"
    response = client.post(
        "/api/tips",
        content=body.encode(),
        headers={"authorization": f"Bearer {API_KEY}", "content-type": "application/json"},
    )
    assert response.status_code == 422
    _clean_all(sink)


def test_webhook(app_client: tuple[TestClient, MemorySink]) -> None:
    client, sink = app_client
    codes = []
    bodies = [
        json.dumps({"id": f"h-{i}", "text": s, "subject": s[:500], "sender": s[:512]}).encode()
        for i, s in enumerate(strings())
    ]
    bodies += [
        json.dumps({"id": s[:256] or "x", "text": "Lidl", "object_ref": s[:64]}).encode()
        for s in strings()[::ID_FIELD_SAMPLE]
    ]
    bodies.append(b'{"id": "sur", "text": ' + SURROGATE_JSON.encode() + b"}")
    for n, raw in enumerate(bodies):
        ts = str(int(datetime.now(UTC).timestamp()))
        response = client.post(
            "/hooks/partner",
            content=raw,
            headers={
                "X-Tipline-Timestamp": ts,
                "X-Tipline-Signature": sign(HOOK_SECRET.encode(), ts, raw),
                # A distinct client per request would not matter: signatures are right.
                "X-Request-N": str(n),
            },
        )
        codes.append(response.status_code)
    assert max(codes) < 500, sorted(set(codes))
    assert codes[-1] == 422  # the lone surrogate
    assert _clean_all(sink) > len(strings())


def test_mail() -> None:
    refused = 0
    for text in strings():
        for data in (
            b"From: a@example.org\r\nSubject: " + text.encode("utf-8")[:900] + b"\r\n\r\nLidl\r\n",
            b"From: a@example.org\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + text.encode("utf-8"),
            b"From: " + text.encode("utf-8")[:200] + b" <a@example.org>\r\n\r\nLidl\r\n",
        ):
            try:
                raw = parse_message(
                    data, received_at=NOW, store_image=None, transport="test", ids=IDS
                )
                clean(raw)
            except InvalidInputError:
                refused += 1
    for data in (
        b"Subject: " + SURROGATE_UTF8 + b"\r\n\r\n" + SURROGATE_UTF8,
        b"Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + SURROGATE_UTF8,
        b"From: \x00\x01\r\n \x02" + SURROGATE_UTF8 + b"\r\n\r\nLidl",
    ):
        clean(parse_message(data, received_at=NOW, store_image=None, transport="t", ids=IDS))
    # Refusals are for messages with nothing in them (an empty or whitespace body), not crashes.
    assert refused < len(strings()) // 5


def test_import_rows(tmp_path: Path) -> None:
    refused = 0
    for text in strings():
        for row in (
            {"id": text, "text": text, "subject": text, "sender": text, "channel": text},
            {"text": "Lidl", "object_ref": text, "received_at": text},
        ):
            try:
                clean(row_to_tip(dict[str, Any](row), ids=IDS, now=NOW))
            except InvalidInputError:
                refused += 1
    assert refused >= len(strings())  # the second row is refused unless the string is a date
    row = {"id": SURROGATE_UTF8.decode("utf-8", "surrogateescape"), "text": "a\ud800b"}
    with pytest.raises(InvalidInputError):
        clean(row_to_tip(row, ids=IDS, now=NOW))
