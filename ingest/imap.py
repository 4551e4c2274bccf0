"""E-mail intake from a hosted mailbox: poll IMAP for unseen mail, hand each to the sink.

Contract:

    ImapPoller(settings, sink, media).poll_once() -> ImapSummary
        Fetches every unseen message (without setting \\Seen), translates it with
        ``ingest.mime.parse_message`` and submits it. Only after the sink accepted is the
        message moved to ``imap_done_mailbox`` (or marked \\Seen): a crash or a sink outage
        between fetch and acceptance leaves it unseen, so the next poll tries again, and the
        Message-ID-derived tip id makes that repeat harmless downstream. A message that cannot
        be a tip (malformed, too big, no text) is moved to ``imap_reject_mailbox`` (or marked
        \\Seen and \\Flagged) — the mailbox is its dead-letter queue — and never retried.
        When the sink fails, the round stops and the rest waits for the next poll.

    ImapPoller.run(stop) polls every ``imap_poll_seconds`` until ``stop`` is set.

    With ``email_receipt_reply`` on, an accepted tip gets a follow-up receipt and the automatic
    reply that carries its code (``ingest.followup_mail``), as the SMTP receiver does. A fetched
    message has no SMTP envelope; its envelope sender is the ``Return-Path`` the delivering MTA
    wrote (RFC 5321 section 4.4). Without one, or with ``<>``, no reply is sent. The reply goes
    out after the message is marked done, so a crash in between costs a reply, never doubles it;
    the address lives in a local until the reply is sent, and is never logged or stored.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from typing import Final

from ingest.email import image_store
from ingest.followup import issue_receipt
from ingest.followup_mail import send_receipt, wants_reply
from ingest.mime import parse_message
from ingest.photos import MediaStore
from ingest.producer import TipSink
from ingest.tip_ids import TipIds
from tipline.core.errors import ConfigurationError, InvalidInputError, TransientError
from tipline.core.settings import Settings

log = logging.getLogger(__name__)

_SIZE_RE: Final = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass
class ImapSummary:
    """What one poll did: accepted by the sink, refused as not-a-tip, left for the next poll."""

    accepted: int = 0
    refused: int = 0
    deferred: int = 0


def return_path(raw: bytes) -> str | None:
    """The envelope sender the delivering MTA recorded (the topmost ``Return-Path``), if any."""
    value = BytesHeaderParser().parsebytes(raw).get("return-path")
    if value is None:
        return None
    address = str(value).strip().strip("<>").strip()
    return address or None


def _quote(mailbox: str) -> str:
    # imaplib sends arguments verbatim; a mailbox name with a space must be a quoted string.
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapPoller:
    """Polls one IMAP mailbox; see the module contract."""

    def __init__(
        self,
        settings: Settings,
        sink: TipSink,
        media: MediaStore | None,
        *,
        connect: Callable[[], imaplib.IMAP4] | None = None,
    ) -> None:
        if not settings.imap_host or not settings.imap_user or settings.imap_password is None:
            raise ConfigurationError("IMAP polling needs imap_host, imap_user and imap_password")
        self._settings = settings
        self._sink = sink
        self._store_image = image_store(media) if media is not None else None
        self._ids = TipIds.from_settings(settings)
        self._connect = connect or self._default_connect
        self._can_move = False

    def _default_connect(self) -> imaplib.IMAP4:
        s = self._settings
        assert s.imap_host is not None
        if s.imap_ssl:
            return imaplib.IMAP4_SSL(s.imap_host, s.imap_port, timeout=30)
        return imaplib.IMAP4(s.imap_host, s.imap_port, timeout=30)

    def poll_once(self) -> ImapSummary:
        """One round over the unseen messages (see the module contract)."""
        s = self._settings
        summary = ImapSummary()
        try:
            conn = self._connect()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise TransientError(f"IMAP server unreachable: {type(exc).__name__}") from exc
        try:
            assert s.imap_user is not None and s.imap_password is not None
            try:
                conn.login(s.imap_user, s.imap_password.get_secret_value())
            except imaplib.IMAP4.error as exc:
                raise ConfigurationError("IMAP login refused; check imap_user/password") from exc
            # Servers list more capabilities after login (MOVE among them) than before it.
            typ, data = conn.capability()
            caps = data[0].upper().split() if typ == "OK" and isinstance(data[0], bytes) else []
            self._can_move = b"MOVE" in caps
            for extra in (s.imap_done_mailbox, s.imap_reject_mailbox):
                if extra:
                    conn.create(_quote(extra))  # "already exists" is a NO answer, not an error
            typ, _ = conn.select(_quote(s.imap_mailbox))
            if typ != "OK":
                raise ConfigurationError(f"cannot open IMAP mailbox {s.imap_mailbox!r}")
            typ, data = conn.uid("SEARCH", "UNSEEN")
            uids = data[0].split() if typ == "OK" and data and data[0] else []
            for position, uid in enumerate(uids):
                if not self._handle(conn, uid.decode(), summary):
                    summary.deferred = len(uids) - position
                    break
            if s.imap_done_mailbox or s.imap_reject_mailbox:
                conn.expunge()
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise TransientError(f"IMAP connection lost: {type(exc).__name__}") from exc
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()
        log.info(
            "IMAP poll: %d accepted, %d refused, %d deferred",
            summary.accepted,
            summary.refused,
            summary.deferred,
        )
        return summary

    def _handle(self, conn: imaplib.IMAP4, uid: str, summary: ImapSummary) -> bool:
        """Process one message; False when the sink failed and the round must stop."""
        limit = self._settings.email_max_bytes
        typ, data = conn.uid("FETCH", uid, "(RFC822.SIZE)")
        match = _SIZE_RE.search(data[0] if typ == "OK" and isinstance(data[0], bytes) else b"")
        if match and int(match.group(1)) > limit:
            # Judged by the server's size, so a 30 MB message is never downloaded.
            self._refuse(conn, uid, f"message larger than {limit} bytes", None)
            summary.refused += 1
            return True
        typ, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((part[1] for part in data if isinstance(part, tuple)), None)
        if typ != "OK" or not isinstance(raw, bytes):
            log.warning("IMAP uid %s could not be fetched; left for the next poll", uid)
            return True
        try:
            tip = parse_message(
                raw,
                received_at=datetime.now(UTC),
                store_image=self._store_image,
                transport="imap",
                ids=self._ids,
            )
        except InvalidInputError as exc:
            self._refuse(conn, uid, exc.reason, exc.tip_id)
            summary.refused += 1
            return True
        # The reply address lives in this local only, until the reply is sent.
        reply_to = return_path(raw) if self._settings.email_receipt_reply else None
        issued = None
        if reply_to and wants_reply(raw, reply_to):
            issued = issue_receipt()
            tip = tip.model_copy(update={"receipt": issued.stored})
        try:
            self._sink.submit(tip)
        except TransientError as exc:
            log.warning("tip %s not accepted by the sink: %s", tip.tip_id, type(exc).__name__)
            return False
        except InvalidInputError as exc:
            self._refuse(conn, uid, exc.reason, tip.tip_id)
            summary.refused += 1
            return True
        self._finish(conn, uid, self._settings.imap_done_mailbox, "(\\Seen)")
        summary.accepted += 1
        log.info("tip %s accepted by IMAP", tip.tip_id)
        if issued is not None and reply_to:
            send_receipt(self._settings, reply_to, tip.tip_id, issued.code)
        return True

    def _refuse(self, conn: imaplib.IMAP4, uid: str, reason: str, tip_id: str | None) -> None:
        log.info("mail refused (tip %s, IMAP uid %s): %s", tip_id or "-", uid, reason)
        self._finish(conn, uid, self._settings.imap_reject_mailbox, "(\\Seen \\Flagged)")

    def _finish(self, conn: imaplib.IMAP4, uid: str, mailbox: str | None, flags: str) -> None:
        """Move the message to ``mailbox``, or flag it in place when there is none."""
        if mailbox:
            if self._can_move:
                conn.uid("MOVE", uid, _quote(mailbox))
                return
            # No MOVE extension: copy, then delete (the caller expunges after the round).
            conn.uid("COPY", uid, _quote(mailbox))
            conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Seen \\Deleted)")
            return
        conn.uid("STORE", uid, "+FLAGS.SILENT", flags)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; an unreachable server is logged and retried next time."""
        while not stop.is_set():
            try:
                self.poll_once()
            except TransientError as exc:
                log.warning("IMAP poll failed, retrying: %s", exc)
            stop.wait(self._settings.imap_poll_seconds)
