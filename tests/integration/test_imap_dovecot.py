"""The IMAP poller against a real Dovecot on a free loopback port, started by the test.

Skipped with a message where Dovecot is not installed (Debian: apt-get install dovecot-imapd).
"""

from __future__ import annotations

import imaplib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr

from ingest.followup import parse_code, verify_secret
from ingest.imap import ImapPoller, return_path
from ingest.memory import MemorySink
from ingest.photos import MediaStore
from tests.mail_relay import Outbox, mail_relay
from tipline.core.errors import TransientError
from tipline.core.settings import Settings

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)
if DOVECOT is None and os.environ.get("CI") == "true":
    # make test installs it (scripts/system-deps): in CI a missing server is a failure, not a skip.
    raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
pytestmark = pytest.mark.skipif(
    DOVECOT is None, reason="dovecot not installed (apt-get install dovecot-imapd)"
)

CORPUS = Path(__file__).parents[1] / "data" / "mail"
USER, PASSWORD = "tips", "s3cret-test-only"


@dataclass
class Dovecot:
    port: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    assert DOVECOT is not None
    # Not pytest's tmp_path: its parents are mode 0700, and Dovecot's unprivileged login
    # processes must reach base_dir.
    root = Path(tempfile.mkdtemp(prefix="tipline-dovecot-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        # Dovecot refuses mail access as uid 0; use nobody, and its own service users.
        mail_user = pwd.getpwnam("nobody")
        internal, login = "dovecot", "dovenull"
    else:
        mail_user = pwd.getpwuid(os.geteuid())
        internal = login = mail_user.pw_name
    home = root / "home"
    home.mkdir()
    if os.geteuid() == 0:
        os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:{home}/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )
    # Output to a file, not a pipe: the daemon's children inherit it and a pipe never closes.
    with (root / "start.log").open("w") as out:
        code = subprocess.run(
            [DOVECOT, "-c", str(conf)], stdout=out, stderr=out, check=False, timeout=20
        ).returncode
    if code != 0:
        pytest.skip(f"dovecot would not start: {(root / 'start.log').read_text()[:300]}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield Dovecot(port)
    finally:
        subprocess.run(
            [DOVECOT, "-c", str(conf), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=20,
        )
        time.sleep(0.3)
        shutil.rmtree(root, ignore_errors=True)


def settings(port: int, **kw: object) -> Settings:
    return Settings(
        imap_host="127.0.0.1",
        imap_port=port,
        imap_ssl=False,
        imap_user=USER,
        imap_password=SecretStr(PASSWORD),
        email_max_bytes=64 * 1024,
        **kw,  # type: ignore[arg-type]
    )


def imap(port: int) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=5)
    conn.login(USER, PASSWORD)
    return conn


def append(port: int, *names: str, raw: bytes | None = None) -> None:
    conn = imap(port)
    try:
        for name in names:
            conn.append("INBOX", "", None, (CORPUS / f"{name}.eml").read_bytes())
        if raw is not None:
            conn.append("INBOX", "", None, raw)
    finally:
        conn.logout()


def count(port: int, mailbox: str, criterion: str = "ALL") -> int:
    conn = imap(port)
    try:
        typ, _ = conn.select(f'"{mailbox}"')
        if typ != "OK":
            return 0
        _, data = conn.uid("SEARCH", criterion)
        return len(data[0].split()) if data and data[0] else 0
    finally:
        conn.logout()


def test_unseen_mail_is_submitted_then_marked_seen(dovecot: Dovecot, tmp_path: Path) -> None:
    append(dovecot.port, "plain_utf8", "image_attachment", "no_text_at_all")
    sink = MemorySink()
    summary = ImapPoller(settings(dovecot.port), sink, MediaStore(tmp_path)).poll_once()
    assert (summary.accepted, summary.refused, summary.deferred) == (2, 1, 0)
    assert {t.channel_meta["transport"] for t in sink.tips} == {"imap"}
    assert count(dovecot.port, "INBOX", "UNSEEN") == 0
    assert count(dovecot.port, "INBOX", "FLAGGED") == 1  # the refused one, as a dead letter
    # A second poll finds nothing new: nothing is repeated.
    again = ImapPoller(settings(dovecot.port), sink, None).poll_once()
    assert again.accepted == 0
    assert len(sink.tips) == 2


def test_sink_outage_leaves_mail_unseen_for_the_next_poll(dovecot: Dovecot) -> None:
    append(dovecot.port, "plain_utf8", "alternative")
    sink = MemorySink()
    sink.down = True
    summary = ImapPoller(settings(dovecot.port), sink, None).poll_once()
    assert (summary.accepted, summary.deferred) == (0, 2)
    assert count(dovecot.port, "INBOX", "UNSEEN") == 2
    sink.down = False
    assert ImapPoller(settings(dovecot.port), sink, None).poll_once().accepted == 2
    assert count(dovecot.port, "INBOX", "UNSEEN") == 0


def test_done_and_reject_mailboxes(dovecot: Dovecot) -> None:
    big = b"Subject: big\r\n\r\n" + (b"B" * 76 + b"\r\n") * 2000
    append(dovecot.port, "html_only", "no_text_at_all", raw=big)
    sink = MemorySink()
    poller = ImapPoller(
        settings(dovecot.port, imap_done_mailbox="Tips Done", imap_reject_mailbox="Tips Rejected"),
        sink,
        None,
    )
    summary = poller.poll_once()
    assert (summary.accepted, summary.refused) == (1, 2)
    assert count(dovecot.port, "INBOX") == 0
    assert count(dovecot.port, "Tips Done") == 1
    assert count(dovecot.port, "Tips Rejected") == 2


def test_wrong_port_is_transient() -> None:
    poller = ImapPoller(settings(_free_port()), MemorySink(), None)
    with pytest.raises(TransientError):
        poller.poll_once()


@pytest.fixture
def relay() -> Iterator[tuple[Controller, Outbox]]:
    with mail_relay(_free_port()) as running:
        yield running


SENDER = "jana.novakova@example.cz"


def _with_return_path(name: str, return_path_value: str, extra: bytes = b"") -> bytes:
    # What the delivering MTA writes on top at final delivery (RFC 5321 section 4.4).
    return (
        f"Return-Path: {return_path_value}\r\n".encode()
        + extra
        + (CORPUS / f"{name}.eml").read_bytes()
    )


def test_imap_tip_gets_a_receipt_reply_when_switched_on(
    dovecot: Dovecot,
    relay: tuple[Controller, Outbox],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    append(dovecot.port, raw=_with_return_path("plain_utf8", f"<{SENDER}>"))
    sink = MemorySink()
    on = settings(
        dovecot.port,
        email_receipt_reply=True,
        email_reply_smtp=f"127.0.0.1:{relay[0].port}",
        tips_addresses=("tips@tipline.example",),
        web_public_url="https://trace.example.org",
    )
    assert ImapPoller(on, sink, None).poll_once().accepted == 1
    [tip] = sink.tips
    assert tip.receipt is not None
    [(mail_from, rcpts, content)] = relay[1].messages
    assert mail_from in ("", "<>") and rcpts == [SENDER]  # null reverse-path, to the envelope
    reply = message_from_bytes(content)
    assert reply["Auto-Submitted"] == "auto-replied"
    text = reply.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert tip.tip_id in text and "https://trace.example.org/followup" in text
    assert "Lidl" not in text  # nothing of the tip is echoed
    code = next(w for w in text.split() if w.count("-") == 6)
    lookup, secret = parse_code(code) or ("", "")
    assert lookup == tip.receipt.lookup_id
    assert verify_secret(tip.receipt.secret_hash, secret)
    assert SENDER not in caplog.text and secret not in caplog.text
    # Marked done before the reply: the next poll sends nothing again.
    assert ImapPoller(on, sink, None).poll_once().accepted == 0
    assert len(relay[1].messages) == 1


@pytest.mark.parametrize(
    ("return_path_value", "extra", "on"),
    [
        (f"<{SENDER}>", b"", False),  # off by default: no receipt, no reply
        ("<>", b"", True),  # a bounce
        (f"<{SENDER}>", b"Auto-Submitted: auto-replied\r\n", True),  # another robot
        (f"<{SENDER}>", b"Precedence: bulk\r\n", True),
    ],
)
def test_imap_no_reply_when_off_or_not_answerable(
    dovecot: Dovecot,
    relay: tuple[Controller, Outbox],
    return_path_value: str,
    extra: bytes,
    on: bool,
) -> None:
    append(dovecot.port, raw=_with_return_path("plain_utf8", return_path_value, extra))
    sink = MemorySink()
    conf = settings(
        dovecot.port,
        email_receipt_reply=on,
        email_reply_smtp=f"127.0.0.1:{relay[0].port}",
        tips_addresses=("tips@tipline.example",),
    )
    assert ImapPoller(conf, sink, None).poll_once().accepted == 1
    assert sink.tips[0].receipt is None
    assert relay[1].messages == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Return-Path: <a@example.org>\r\nSubject: x\r\n\r\nx", "a@example.org"),
        (b"Return-Path: <>\r\nSubject: x\r\n\r\nx", None),
        (b"From: a@example.org\r\nSubject: x\r\n\r\nx", None),  # From is not the envelope
    ],
)
def test_return_path(raw: bytes, expected: str | None) -> None:
    assert return_path(raw) == expected
