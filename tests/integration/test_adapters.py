"""Each adapter over its own protocol, through the real broker and worker into the reviewer
database, with no trace of the tipster: signed webhook over HTTP, Mastodon over HTTP, bulk
import through the CLI. (The web form/API and SMTP are driven by test_run_command.py.)"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
import pytest
import uvicorn
from PIL import Image
from pydantic import SecretStr

from ingest.contact import new_key_pair, open_contact
from ingest.photos import MediaStore
from ingest.producer import TipProducer
from ingest.social import MastodonPoller
from ingest.web import create_app
from tests.integration.conftest import Worker, count_rows, settings_env, wait_for
from tests.unit.ingest.test_social import FakeMastodon, fake, mention  # noqa: F401 - fixture
from tipline.core.settings import Settings
from tipline.core.topics import Topics
from tipline.embedded import free_port

HOOK_SECRET = "webhook-secret-for-the-partner-platform"
CONTACT_PUBLIC, CONTACT_PRIVATE = new_key_pair()


def database_text(settings: Settings) -> str:
    assert settings.database_url
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        return "\n".join(row[0] for row in conn.execute("SELECT t::text FROM tips t"))


@pytest.fixture
def producer(settings: Settings) -> Iterator[TipProducer]:
    assert settings.kafka
    with TipProducer(settings.kafka, Topics.from_settings(settings).raw) as tip_producer:
        yield tip_producer


@pytest.fixture
def web(settings: Settings, producer: TipProducer, tmp_path: Path) -> Iterator[str]:
    """The web intake served by uvicorn on a loopback port, as in production."""
    port = free_port()
    configured = settings.model_copy(
        update={
            "webhook_secrets": {"partner": SecretStr(HOOK_SECRET)},
            "web_port": port,
            "web_secure_cookies": False,  # plain http on loopback: the cookie must travel
            "contact_public_key": CONTACT_PUBLIC,
        }
    )
    app = create_app(configured, producer, MediaStore(tmp_path / "media"))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "uvicorn")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def photo_with_metadata() -> bytes:
    """A JPEG carrying the kind of metadata that identifies a tipster: author, camera, GPS."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = "Anna Example"  # Artist
    exif[0x0110] = "Pixel 7 of Anna"  # Model
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 12.0, 30.0), 3: "E", 4: (16.0, 22.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_web_form_with_photo_reaches_the_database(
    settings: Settings, worker: Worker, web: str, tmp_path: Path
) -> None:
    """A browser's path: page (CSRF cookie), multipart form with a photo, receipt; the stored
    tip references the sanitised photo, which has lost every piece of metadata."""
    with httpx.Client(base_url=web, timeout=10) as browser:
        page = browser.get("/objects/7", headers={"Accept-Language": "de-AT,de;q=0.9"})
        assert page.status_code == 200 and 'lang="de"' in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        original = photo_with_metadata()
        receipt = browser.post(
            "/objects/7/tips?lang=de",
            data={
                "csrf": csrf.group(1),
                "text": "Die Tasche gibt es bei dm in Graz.",
                "consent": "yes",
                "contact": "anna.contact@example.org",
            },
            files={"photo": ("IMG_20261101_anna.jpg", original, "image/jpeg")},
            headers={"Origin": web},
        )
    assert receipt.status_code == 200, receipt.text
    assert re.search(r"\bw-[a-z2-7]{26}\b", receipt.text)  # the reference the tipster can keep
    assert "dm in Graz" not in receipt.text  # the receipt never echoes the tip

    assert settings.database_url
    url_db = settings.database_url.get_secret_value()
    wait_for(lambda: count_rows(url_db) == 1, 60, "the form tip")
    with psycopg.connect(url_db) as conn:
        row = conn.execute(
            "SELECT channel, language, attachments, sealed_contact FROM tips"
        ).fetchone()
    assert row is not None
    channel, language, attachments, sealed = row
    # The contact the tipster chose to give is there for investigators only: sealed.
    assert open_contact(sealed, CONTACT_PRIVATE) == "anna.contact@example.org"
    assert "anna.contact" not in database_text(settings)
    assert (channel, language) == ("web", "de")
    assert len(attachments) == 1
    stored = MediaStore(tmp_path / "media").path_for(attachments[0]["sha256"]).read_bytes()
    assert stored != original
    for trace in (b"Anna Example", b"Pixel 7", b"Exif", b"IMG_20261101"):
        assert trace not in stored
    assert "IMG_20261101" not in database_text(settings)


def test_signed_webhook_reaches_the_database(settings: Settings, worker: Worker, web: str) -> None:
    body = json.dumps(
        {
            "id": "post-991",
            "text": "That bottle is sold at Mercadona in Valencia. DM me: @lucia_v",
            "object_ref": "12",
            "sender": "lucia_v@platform.example",
        }
    ).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(HOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    headers = {
        "X-Tipline-Signature": f"sha256={digest.hexdigest()}",
        "X-Tipline-Timestamp": stamp,
        "Content-Type": "application/json",
    }
    answer = httpx.post(f"{web}/hooks/partner", content=body, headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    replay = httpx.post(f"{web}/hooks/partner", content=body, headers=headers, timeout=10)
    assert replay.status_code == 409

    assert settings.database_url
    wait_for(lambda: count_rows(settings.database_url.get_secret_value()) == 1, 60, "the tip")
    stored = database_text(settings)
    assert "Mercadona" in stored
    assert "lucia_v" not in stored and "platform.example" not in stored


def test_mastodon_mentions_reach_the_database(
    settings: Settings,
    worker: Worker,
    producer: TipProducer,
    fake: tuple[FakeMastodon, str],  # noqa: F811 - the fixture imported above
) -> None:
    state, url = fake
    state.notifications = [
        mention(1, "Die Tasche ist von Rossmann, gesehen in Graz", acct="jana@mastodon.example"),
        mention(2, "Made in Poland, sold at Biedronka", acct="piotr@social.example"),
    ]
    configured = settings.model_copy(
        update={
            "mastodon_url": url,
            "mastodon_token": SecretStr("token"),
            "mastodon_account": "tipline",
        }
    )
    poller = MastodonPoller.from_settings(configured, producer)
    assert poller.poll_once() == 2
    assert poller.poll_once() == 0  # the cursor moved on: nothing is fetched twice

    assert settings.database_url
    url_db = settings.database_url.get_secret_value()
    wait_for(lambda: count_rows(url_db) == 2, 60, "both mentions")
    stored = database_text(settings)
    assert "Rossmann" in stored and "Biedronka" in stored
    for trace in ("jana", "piotr", "mastodon.example", "social.example", "@tipline"):
        assert trace not in stored
    with psycopg.connect(url_db) as conn:
        senders = {row[0] for row in conn.execute("SELECT sender_key FROM tips")}
    assert len(senders) == 2 and None not in senders


def test_bulk_import_through_the_cli(settings: Settings, worker: Worker, tmp_path: Path) -> None:
    export = tmp_path / "partner.csv"
    export.write_text(
        "id,text,object_ref,received_at,email\n"
        "1,Saw it in a Lidl in Graz,7,2026-11-01T10:00:00+01:00,anna@example.org\n"
        "2,Zara bag from Madrid,7,2026-11-01T11:00:00Z,bob@example.org\n"
        "3,,7,2026-11-01T12:00:00Z,\n"
        "4,Kaufland Brno,7,yesterday,\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tipline",
            "import",
            str(export),
            "--rejects",
            str(rejects),
            "--source",
            "museum",
        ],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "4 rows: 2 accepted, 2 rejected" in done.stdout
    rejected: list[dict[str, Any]] = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert sorted(r["line"] for r in rejected) == [4, 5]

    assert settings.database_url
    url_db = settings.database_url.get_secret_value()
    wait_for(lambda: count_rows(url_db) == 2, 60, "the imported rows")
    with psycopg.connect(url_db) as conn:
        ids = sorted(row[0] for row in conn.execute("SELECT tip_id FROM tips"))
    # Namespaced by source, keyed (ingest/tip_ids.py): the export's row ids do not lead here.
    assert len(ids) == 2 and all(i.startswith("i-museum-h") for i in ids)
    assert not any(i.endswith(("-1", "-2")) for i in ids)
    stored = database_text(settings)
    assert "anna@example.org" not in stored and "bob@example.org" not in stored
