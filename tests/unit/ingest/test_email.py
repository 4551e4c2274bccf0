"""The SMTP/LMTP receiver over real SMTP on loopback (smtplib against aiosmtpd, ~1 s)."""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from ingest.email import TipMailHandler, start_smtp
from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.producer import encode
from ingest.tip_ids import TipIds
from schemas import RawTip
from tipline.core.errors import RejectedContentError
from tipline.core.settings import Settings

CORPUS = Path(__file__).parents[2] / "data" / "mail"
TIPS = "tips@tipline.example"
LIMIT = 512 * 1024  # above the nesting bomb in the corpus, so that reaches the parser

IDS = TipIds(b"test-tip-id-secret-0123456789")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


def _start(sink: MemorySink, tmp_path: Path, **overrides: object) -> Controller:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        tips_addresses=(TIPS,),
        email_max_bytes=LIMIT,
        **overrides,  # type: ignore[arg-type]
    )
    return start_smtp(settings, sink, MediaStore(tmp_path / "media"))


@pytest.fixture
def server(sink: MemorySink, tmp_path: Path) -> Iterator[Controller]:
    controller = _start(sink, tmp_path)
    yield controller
    controller.stop()


def client(server: Controller) -> smtplib.SMTP:
    return smtplib.SMTP(server.hostname, server.port, timeout=5)


def deliver(server: Controller, data: bytes, rcpt: str = TIPS) -> tuple[int, bytes]:
    with client(server) as smtp:
        smtp.ehlo("client.example.net")
        assert smtp.mail("jana.novakova@example.cz")[0] == 250
        code, _ = smtp.rcpt(rcpt)
        assert code == 250
        return smtp.data(data)


def test_message_is_accepted_after_the_sink_took_it(server: Controller, sink: MemorySink) -> None:
    code, reply = deliver(server, (CORPUS / "image_attachment.eml").read_bytes())
    assert code == 250
    assert len(sink.tips) == 1
    tip = sink.tips[0]
    assert tip.tip_id.encode() in reply
    assert tip.channel_meta["transport"] == "smtp"
    assert tip.channel_meta["envelope_from"] == "jana.novakova@example.cz"
    assert len(tip.attachments) == 1


def test_redelivered_message_is_the_same_tip(server: Controller, sink: MemorySink) -> None:
    data = (CORPUS / "plain_utf8.eml").read_bytes()
    deliver(server, data)
    deliver(server, b"Received: from elsewhere; Tue, 4 Jun 2024 01:00:00 +0000\r\n" + data)
    assert len({t.tip_id for t in sink.tips}) == 1


@pytest.mark.parametrize(
    ("rcpt", "code"),
    [
        (TIPS, 250),
        ("TIPS@Tipline.Example", 250),
        ("tips+OBJ-9@tipline.example", 250),
        ("postmaster@tipline.example", 550),
        ("tips@other.example", 550),
        ("tipsy@tipline.example", 550),
    ],
)
def test_only_tips_addresses_are_accepted(server: Controller, rcpt: str, code: int) -> None:
    with client(server) as smtp:
        smtp.ehlo()
        smtp.mail("a@example.net")
        assert smtp.rcpt(rcpt)[0] == code


def test_plus_address_names_the_object(server: Controller, sink: MemorySink) -> None:
    deliver(server, (CORPUS / "plain_utf8.eml").read_bytes(), rcpt="tips+OBJ-9@tipline.example")
    assert sink.tips[0].object_ref == "OBJ-9"


def test_oversize_message_gets_552(server: Controller, sink: MemorySink) -> None:
    with client(server) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size")
        assert int(smtp.esmtp_features["size"]) == LIMIT
        big = b"Subject: x\r\n\r\n" + (b"A" * 76 + b"\r\n") * (LIMIT // 70)
        smtp.mail("a@example.net")
        smtp.rcpt(TIPS)
        code, _ = smtp.data(big)
    assert code == 552
    assert sink.tips == []


# The 3,000-deep nesting bomb is in test_mime (1 s of parsing); here it would slow the suite.
@pytest.mark.parametrize("name", ["deep_nesting", "no_text_at_all"])
def test_malformed_message_gets_554_and_the_server_lives_on(
    server: Controller, sink: MemorySink, name: str
) -> None:
    code, reply = deliver(server, (CORPUS / f"{name}.eml").read_bytes())
    assert code == 554
    assert b"refused" in reply.lower()
    assert deliver(server, (CORPUS / "plain_utf8.eml").read_bytes())[0] == 250


def test_sink_down_gets_451_so_the_sender_retries(server: Controller, sink: MemorySink) -> None:
    sink.down = True
    code, _ = deliver(server, (CORPUS / "plain_utf8.eml").read_bytes())
    assert code == 451
    sink.down = False
    assert deliver(server, (CORPUS / "plain_utf8.eml").read_bytes())[0] == 250
    assert len(sink.tips) == 1


def test_no_address_or_peer_in_any_log(
    server: Controller, sink: MemorySink, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        deliver(server, (CORPUS / "exe_attachment.eml").read_bytes())
        with client(server) as smtp:
            smtp.ehlo()
            smtp.mail("a@example.net")
            smtp.rcpt("nobody@tipline.example")
    logged = "\n".join(r.getMessage() for r in caplog.records).lower()
    assert sink.tips[0].tip_id in logged
    for trace in ("127.0.0.1", "example.cz", "jana", "nobody@", "label.exe", "client.example"):
        assert trace not in logged


def test_lmtp_mode_delivers(sink: MemorySink, tmp_path: Path) -> None:
    controller = _start(sink, tmp_path, smtp_lmtp=True)
    try:
        with smtplib.LMTP(controller.hostname, controller.port, timeout=5) as lmtp:
            lmtp.ehlo_or_helo_if_needed()
            refused = lmtp.sendmail(
                "a@example.net", [TIPS], (CORPUS / "alternative.eml").read_bytes()
            )
    finally:
        controller.stop()
    assert refused == {}
    assert [t.channel_meta["transport"] for t in sink.tips] == ["lmtp"]


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("<tips@tipline.example>", True),
        ("tips+x@tipline.example", True),
        ("tips", False),
        ("", False),
        ("tips@tipline.example.evil", False),
    ],
)
def test_handler_accepts(address: str, ok: bool) -> None:
    handler = TipMailHandler(MemorySink(), None, (TIPS,), IDS)
    assert handler.accepts(address) is ok


# --- issue 9 items 2 and 10: raw 8-bit headers, oversize records, refused attachments -----------


class EncodingSink(MemorySink):
    """A MemorySink that encodes each tip exactly as the Kafka producer would."""

    async def submit_async(self, tip: RawTip) -> None:
        encode(tip)
        self.submit(tip)


@pytest.fixture
def encoding_server(tmp_path: Path) -> Iterator[tuple[Controller, EncodingSink]]:
    sink = EncodingSink()
    controller = _start(sink, tmp_path)
    yield controller, sink
    controller.stop()


@pytest.mark.parametrize(
    "from_header",
    [
        b"From: J\xc3\xbcrgen Gr\xc3\xb6\xc3\x9fmann <jg@example.org>",
        b"From: J\xfcrgen Gr\xf6\xdfmann <jg@example.org>",
        b"From: jg@example.org\r\nX-Junk: \x01\x02\r\n \x03\x7f",
    ],
)
def test_raw_8bit_headers_are_accepted(
    encoding_server: tuple[Controller, EncodingSink], from_header: bytes
) -> None:
    server, sink = encoding_server
    data = from_header + b"\r\nSubject: Gr\xc3\xb6\xc3\x9fe\r\n\r\nSaw it at Lidl in Graz.\r\n"
    code, reply = deliver(server, data)
    assert code == 250, reply
    assert len(sink.tips) == 1


def test_unencodable_tip_is_refused_permanently(
    encoding_server: tuple[Controller, EncodingSink],
) -> None:
    server, sink = encoding_server
    sink.fail = RejectedContentError("tip is not valid Unicode text")
    code, reply = deliver(server, (CORPUS / "plain_utf8.eml").read_bytes())
    assert code == 554
    assert b"Unicode" in reply


def test_refused_attachment_is_named_in_the_250_reply(server: Controller, sink: MemorySink) -> None:
    code, reply = deliver(server, (CORPUS / "exe_attachment.eml").read_bytes())
    assert code == 250
    assert b"not kept" in reply
    assert b"only JPEG, PNG and WebP images are accepted" in reply
    assert b"label.exe" not in reply  # the reply names our rule, not what the sender sent
