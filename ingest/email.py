"""E-mail intake: an SMTP/LMTP receiver (aiosmtpd) for the tips@ address.

Contract:

    TipMailHandler(sink, store_image, addresses, ids)
        aiosmtpd handler. RCPT for anything but the tips addresses (and their ``+object_ref``
        forms) gets 550; a message over the SIZE limit gets 552 from aiosmtpd itself. DATA is
        parsed by ``ingest.mime.parse_message`` and handed to the sink; the server answers
        250 only after the sink accepted, 554 for a message that cannot be a tip (never
        retried by the sending MTA), 451 when the sink is unavailable (the MTA retries later,
        so an accepted-then-lost tip cannot happen).

    start_smtp(settings, sink, media) -> Controller
        Starts the receiver in its own thread on ``settings.smtp_host:smtp_port``; the caller
        stops it with ``controller.stop()``.

The receiver never logs an address, a subject or body text: only tip ids and reasons.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from ingest.followup import issue_receipt
from ingest.followup_mail import send_receipt, wants_reply
from ingest.mime import ImageStore, parse_message
from ingest.photos import MediaStore, sanitise_image
from ingest.producer import TipSink
from ingest.tip_ids import TipIds
from schemas.tip import Attachment, RawTip
from tipline.core.errors import InvalidInputError, TransientError
from tipline.core.settings import Settings

log = logging.getLogger(__name__)


class _PeerFreeFilter(logging.Filter):
    """aiosmtpd logs the peer's IP, MAIL FROM and RCPT TO at INFO: tipster data, so drop it.

    Errors still surface, with the exception type only (its text may quote the session).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return False
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "-"
        record.msg = "SMTP session error (%s); details withheld because they name the peer"
        record.args = (exc_type,)
        record.exc_info = None
        record.exc_text = None
        return True


_AIOSMTPD_LOG = logging.getLogger("mail.log")
if not any(isinstance(f, _PeerFreeFilter) for f in _AIOSMTPD_LOG.filters):
    _AIOSMTPD_LOG.addFilter(_PeerFreeFilter())


def image_store(media: MediaStore) -> ImageStore:
    """The photo path every channel shares: sanitise the untrusted bytes, store the result."""

    def store(data: bytes) -> Attachment:
        return media.put(sanitise_image(data))

    return store


def _normalise_address(address: str) -> str:
    return address.strip().strip("<>").lower()


def _refusal_note(tip: RawTip) -> str:
    """'; not kept: 2 attachments (reason; reason)' for the 250 line, or "".

    The 250 text is what a sending server shows in its log and, for a failed part, what the
    tipster's client can show; a reply mail would be backscatter to an address we promise to
    forget, so the reason travels in the reply line. Reasons are our rules' words, never the
    sender's file names, and the line stays far below SMTP's 512-byte limit.
    """
    refused = tip.channel_meta.get("refused_attachments")
    if not refused:
        return ""
    count = len(refused) if isinstance(refused, list) else 1
    reasons = tip.channel_meta.get("refused_reasons") or []
    why = "; ".join([reasons] if isinstance(reasons, str) else reasons)[:300]
    noun = "attachment" if count == 1 else "attachments"
    return f"; not kept: {count} {noun}" + (f" ({why})" if why else "")


class TipMailHandler:
    """aiosmtpd handler for the tips addresses; see the module contract."""

    def __init__(
        self,
        sink: TipSink,
        store_image: ImageStore | None,
        addresses: tuple[str, ...],
        ids: TipIds,
        *,
        receipt_settings: Settings | None = None,
    ) -> None:
        self._ids = ids
        # With settings, each tip gets a follow-up receipt sent back to its envelope sender.
        self._receipts = receipt_settings
        self._sink = sink
        self._store_image = store_image
        self._addresses = frozenset(_normalise_address(a) for a in addresses)

    def accepts(self, address: str) -> bool:
        """Whether mail to ``address`` is for us: a tips address, optionally ``+tag``-ged."""
        local, at, domain = _normalise_address(address).rpartition("@")
        if not at:
            return False
        base = local.partition("+")[0]
        return f"{base}@{domain}" in self._addresses

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.accepts(address):
            return "550 5.1.1 Recipient address rejected: not a tips address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        data = envelope.original_content
        if not isinstance(data, bytes):
            data = (envelope.content or b"") if isinstance(envelope.content, bytes) else b""
        try:
            # Parsing and image sanitising are CPU work: keep the event loop answering others.
            tip = await asyncio.to_thread(
                parse_message,
                data,
                received_at=datetime.now(UTC),
                store_image=self._store_image,
                transport="smtp" if not isinstance(server, LMTP) else "lmtp",
                ids=self._ids,
                envelope_from=envelope.mail_from or None,
                # Case kept: the +tag is an object reference, and those are case-sensitive.
                recipients=tuple(r.strip().strip("<>") for r in envelope.rcpt_tos),
            )
        except InvalidInputError as exc:
            log.info("mail refused (tip %s): %s", exc.tip_id or "-", exc.reason)
            return f"554 5.6.0 Message refused: {exc.reason}"
        except Exception as exc:  # no message may crash the receiver or leak into a 500 line
            log.exception("mail could not be parsed: %s", type(exc).__name__)
            return "451 4.3.0 Local error while reading the message; try again later"
        # The reply address lives in this local only, until the reply is sent.
        reply_to = envelope.mail_from if self._receipts is not None else None
        issued = None
        if reply_to and wants_reply(data, reply_to):
            issued = await asyncio.to_thread(issue_receipt)
            tip = tip.model_copy(update={"receipt": issued.stored})
        try:
            await self._sink.submit_async(tip)
        except TransientError as exc:
            log.warning("tip %s not accepted by the sink: %s", tip.tip_id, type(exc).__name__)
            return "451 4.3.0 Temporarily unable to accept the tip; try again later"
        except InvalidInputError as exc:
            log.info("tip %s refused by the sink: %s", tip.tip_id, exc.reason)
            return f"554 5.6.0 Message refused: {exc.reason}"
        except Exception:
            log.exception("tip %s: sink failed", tip.tip_id)
            return "451 4.3.0 Temporarily unable to accept the tip; try again later"
        log.info("tip %s accepted by e-mail", tip.tip_id)
        if issued is not None and reply_to and self._receipts is not None:
            await asyncio.to_thread(
                send_receipt, self._receipts, reply_to.strip().strip("<>"), tip.tip_id, issued.code
            )
        # The reference lets a tipster quote their tip later; it echoes nothing they sent.
        return f"250 2.0.0 Accepted as tip {tip.tip_id}" + _refusal_note(tip)


class _LMTPController(Controller):
    """The same receiver speaking LMTP, for delivery from an MTA such as Postfix."""

    def factory(self) -> Any:
        return LMTP(self.handler, **self.SMTP_kwargs)


def start_smtp(settings: Settings, sink: TipSink, media: MediaStore | None) -> Controller:
    """Start the SMTP (or LMTP) receiver in a thread; the caller stops it with ``.stop()``."""
    handler = TipMailHandler(
        sink,
        image_store(media) if media is not None else None,
        settings.tips_addresses,
        TipIds.from_settings(settings),
        receipt_settings=settings if settings.email_receipt_reply else None,
    )
    controller_cls = _LMTPController if settings.smtp_lmtp else Controller
    controller = controller_cls(
        handler,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        data_size_limit=settings.email_max_bytes,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="tipline",
    )
    controller.start()
    log.info(
        "%s receiver listening on %s:%d",
        "LMTP" if settings.smtp_lmtp else "SMTP",
        settings.smtp_host,
        settings.smtp_port,
    )
    return controller
