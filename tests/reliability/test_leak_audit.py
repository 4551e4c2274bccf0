"""The leak audit: known identifiers in through every channel, then searched for everywhere.

Tips carrying an address, a name, a host name, a handle, a phone, an IP, a Message-ID, a
user agent and GPS/author EXIF come in by form (with a photo), partner API, webhook, mail and
import, plus a poison record holding the same identifiers; the real worker takes them to
PostgreSQL. Then every record of every topic downstream of tips.raw, every row of every table
(as text), every stored photo, the worker's log and this process's log lines are searched; the
test lists every hit and fails on any.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer
from PIL import Image
from pydantic import SecretStr

from ingest.bulk import row_to_tip
from ingest.mime import parse_message
from ingest.photos import MediaStore
from ingest.producer import TipProducer
from ingest.tip_ids import TipIds
from ingest.web import create_app
from ingest.webhook import sign
from tests.integration.conftest import Worker, count_rows, wait_for
from tipline.core.settings import Settings
from tipline.core.topics import Topics

pytestmark = pytest.mark.integration

API_KEY = "audit-partner-key-0123456789"
HOOK_SECRET = "audit-hook-secret-0123456789"
CLIENT_IP = "198.51.100.23"
SECRETS = {
    "address": "juergen.groessmann@example.org",
    "name": "Größmann",
    "host": "jg-laptop.home.example",
    "handle": "@jg_tipster",
    "phone": "+43 664 1234567",
    "phone digits": "664 1234567",
    "ip": CLIENT_IP,
    "message-id": "leak-audit-4711@example.org",
    "user agent": "LeakAuditMailer/115",
    "exif artist": "Juergen LeakAudit",
    "exif model": "LeakAuditCam 9",
    "file name": "IMG_leakaudit",
}
GOOD_TIPS = 5


def _photo() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = SECRETS["exif artist"]
    exif[0x0110] = SECRETS["exif model"]
    exif.get_ifd(0x8825).update({1: "N", 2: (47.0, 4.0, 12.5), 3: "E", 4: (15.0, 26.0, 3.0)})
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (20, 160, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _everything_downstream(settings: Settings, media: Path, worker: Worker) -> dict[str, str]:
    assert settings.kafka and settings.database_url
    topics = Topics.from_settings(settings)
    found: dict[str, str] = {}
    for topic in (topics.clean, topics.scored, topics.dead):
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka,
            auto_offset_reset="earliest",
            consumer_timeout_ms=3000,
            enable_auto_commit=False,
        )
        try:
            found[f"topic {topic}"] = "\n".join(
                (m.key or b"").decode("utf-8", "replace") + " " + m.value.decode("utf-8", "replace")
                for m in consumer
            )
        finally:
            consumer.close()
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        for table in tables:
            rows = conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
            found[f"table {table}"] = "\n".join(r[0] for r in rows)
    for path in sorted(p for p in media.rglob("*") if p.is_file()):
        found[f"photo {path.name[:12]}"] = path.read_bytes().decode("latin-1")
    found["worker log"] = worker.log()
    return found


def test_no_identifier_survives_anywhere(
    settings: Settings, worker: Worker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.kafka and settings.database_url and settings.sender_key_secret
    topics = Topics.from_settings(settings)
    media = tmp_path / "media"
    configured = settings.model_copy(
        update={
            "web_api_keys": {"audit": SecretStr(API_KEY)},
            "webhook_secrets": {"partner": SecretStr(HOOK_SECRET)},
            "web_secure_cookies": False,
        }
    )
    ids = TipIds.from_settings(configured)
    now = datetime.now(UTC)
    with caplog.at_level(logging.INFO), TipProducer(settings.kafka, topics.raw) as producer:
        client = TestClient(
            create_app(configured, producer, MediaStore(media)), client=(CLIENT_IP, 40123)
        )
        page = client.get("/objects/obj-1?lang=de", headers={"user-agent": SECRETS["user agent"]})
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        form = client.post(
            "/objects/obj-1/tips?lang=de",
            data={"csrf": csrf, "text": f"Die Tasche ist von Lidl in Graz. Tel {SECRETS['phone']}"},
            files={"photo": (f"{SECRETS['file name']}.jpg", _photo(), "image/jpeg")},
            headers={"user-agent": SECRETS["user agent"], "x-forwarded-for": CLIENT_IP},
        )
        assert form.status_code == 200, form.text[:500]
        api = client.post(
            "/api/tips",
            json={
                "message_id": "audit-1",
                "body": f"Bei Pepco gesehen. Schreib an {SECRETS['address']}",
            },
            headers={"authorization": f"Bearer {API_KEY}"},
        )
        assert api.status_code == 202, api.text
        hook = json.dumps(
            {
                "id": "audit-hook-1",
                "sender": SECRETS["handle"],
                "text": f"Rossmann in Wien, frag {SECRETS['handle']}",
            }
        ).encode()
        ts = str(int(now.timestamp()))
        response = client.post(
            "/hooks/partner",
            content=hook,
            headers={
                "X-Tipline-Timestamp": ts,
                "X-Tipline-Signature": sign(HOOK_SECRET.encode(), ts, hook),
            },
        )
        assert response.status_code == 202, response.text
        mail = (
            f"From: Jürgen {SECRETS['name']} <{SECRETS['address']}>\r\n"
            f"Received: from {SECRETS['host']} ([{CLIENT_IP}])\r\n"
            f"User-Agent: {SECRETS['user agent']}\r\n"
            f"Message-ID: <{SECRETS['message-id']}>\r\n"
            "Subject: Tasche\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Die Tasche ist von dm in Linz. Ruft mich an: {SECRETS['phone']}.\r\n"
            f"Viele Grüße\r\nJürgen {SECRETS['name']}\r\n"
        ).encode()
        producer.submit(
            parse_message(
                mail,
                received_at=now,
                store_image=None,
                transport="smtp",
                ids=ids,
                envelope_from=SECRETS["address"],
            )
        )
        producer.submit(
            row_to_tip(
                {
                    "id": SECRETS["message-id"],
                    "text": f"Kik in Graz, {SECRETS['phone']}",
                    "sender": SECRETS["address"],
                },
                ids=ids,
                now=now,
            )
        )
        # A poison record holding every identifier, channel_meta first.
        # Text identifiers in the body (what redaction promises to catch in text); the rest
        # where channels put them: metadata, and an undeclared key named by an address.
        text = f"Lidl. {SECRETS['address']} {SECRETS['phone']} {SECRETS['ip']} {SECRETS['handle']}"
        meta = {
            "h:from": f"Jürgen {SECRETS['name']} <{SECRETS['address']}>",
            "h:received": SECRETS["host"],
            "h:user-agent": SECRETS["user agent"],
            "h:message-id": SECRETS["message-id"],
            "file": SECRETS["file name"],
            "exif": f"{SECRETS['exif artist']} {SECRETS['exif model']}",
        }
        poison = {
            "channel_meta": meta,
            "tip_id": "w-poison",
            "channel": "web",
            "received_at": now.isoformat(),
            "body": text,
            SECRETS["address"]: 1,
        }
        raw = KafkaProducer(bootstrap_servers=settings.kafka, acks="all")
        raw.send(topics.raw, json.dumps(poison).encode()).get(timeout=10)
        raw.close()

    url = settings.database_url.get_secret_value()
    wait_for(lambda: count_rows(url) == GOOD_TIPS, 90, f"{GOOD_TIPS} tips stored")
    wait_for(lambda: "w-poison" in worker.log() or _dead_count(settings) >= 1, 30, "dead letter")
    places = _everything_downstream(settings, media, worker)
    places["this process's log"] = "\n".join(r.getMessage() for r in caplog.records)
    assert places[f"topic {topics.dead}"], "the poison record left no dead letter"
    assert any(k.startswith("photo") for k in places), "the photo was not stored"
    hits = [
        f"{where}: {what}"
        for where, text in places.items()
        for what, secret in SECRETS.items()
        if secret in text
    ]
    print(
        f"leak audit: {GOOD_TIPS} tips stored, 1 poison record, {len(places)} places searched,"
        f" {len(hits)} hits"
    )
    assert hits == [], hits


def _dead_count(settings: Settings) -> int:
    assert settings.kafka
    consumer = KafkaConsumer(
        Topics.from_settings(settings).dead,
        bootstrap_servers=settings.kafka,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
        enable_auto_commit=False,
    )
    try:
        return sum(1 for _ in consumer)
    finally:
        consumer.close()
