"""E-mail receipts: the SMTP receiver answers a tip with its follow-up code through a real
(local aiosmtpd) relay, only when switched on, never to bounces or bulk mail, never logged."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from ingest.email import start_smtp
from ingest.followup import parse_code, verify_secret
from ingest.followup_mail import wants_reply
from ingest.memory import MemorySink
from ingest.photos import MediaStore
from tests.mail_relay import Outbox, mail_relay
from tests.unit.ingest.test_email import free_port
from tipline.core.settings import Settings

TIPS = "tips@tipline.example"
SENDER = "jana.novakova@example.cz"
MAIL = (
    b"From: Jana <jana.novakova@example.cz>\r\nTo: tips@tipline.example\r\n"
    b"Subject: bag\r\nMessage-ID: <m1@example.cz>\r\n\r\nI saw the bag at Rossmann in Brno.\r\n"
)


@pytest.fixture
def relay() -> Iterator[tuple[Controller, Outbox]]:
    with mail_relay(free_port()) as running:
        yield running


def receiver(tmp_path: Path, sink: MemorySink, relay: Controller, on: bool) -> Controller:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        tips_addresses=(TIPS,),
        email_receipt_reply=on,
        email_reply_smtp=f"127.0.0.1:{relay.port}",
        web_public_url="https://trace.example.org",
    )
    return start_smtp(settings, sink, MediaStore(tmp_path / "media"))


def deliver(server: Controller, data: bytes, mail_from: str = SENDER) -> int:
    with smtplib.SMTP(server.hostname, server.port, timeout=10) as smtp:
        smtp.ehlo("client.example.net")
        smtp.mail(mail_from)
        smtp.rcpt(TIPS)
        return smtp.data(data)[0]


def test_the_reply_carries_a_code_that_checks_against_the_stored_hash(
    tmp_path: Path, relay: tuple[Controller, Outbox], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sink = MemorySink()
    server = receiver(tmp_path, sink, relay[0], on=True)
    try:
        assert deliver(server, MAIL) == 250
    finally:
        server.stop()
    [tip] = sink.tips
    assert tip.receipt is not None
    [(mail_from, rcpts, content)] = relay[1].messages
    assert mail_from in ("", "<>") and rcpts == [SENDER]  # null reverse-path
    reply = message_from_bytes(content)
    assert reply["Auto-Submitted"] == "auto-replied"
    text = reply.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert tip.tip_id in text and "https://trace.example.org/followup" in text
    assert "Rossmann" not in text  # nothing of the tip is echoed
    code = next(w for w in text.split() if w.count("-") == 6)
    lookup, secret = parse_code(code) or ("", "")
    assert lookup == tip.receipt.lookup_id
    assert verify_secret(tip.receipt.secret_hash, secret)
    assert SENDER not in caplog.text and secret not in caplog.text


def test_off_by_default_no_reply_and_no_receipt(
    tmp_path: Path, relay: tuple[Controller, Outbox]
) -> None:
    sink = MemorySink()
    server = receiver(tmp_path, sink, relay[0], on=False)
    try:
        assert deliver(server, MAIL) == 250
    finally:
        server.stop()
    assert sink.tips[0].receipt is None and relay[1].messages == []
    assert Settings().email_receipt_reply is False


@pytest.mark.parametrize(
    ("header", "mail_from", "expected"),
    [
        (b"", SENDER, True),
        (b"Auto-Submitted: auto-replied\r\n", SENDER, False),
        (b"Auto-Submitted: no\r\n", SENDER, True),
        (b"Precedence: bulk\r\n", SENDER, False),
        (b"List-Id: <list.example.org>\r\n", SENDER, False),
        (b"", "", False),
        (b"", "MAILER-DAEMON@example.cz", False),
    ],
)
def test_no_reply_to_bounces_lists_or_auto_replies(
    header: bytes, mail_from: str, expected: bool
) -> None:
    assert wants_reply(header + MAIL, mail_from) is expected
