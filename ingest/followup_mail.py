"""The automatic reply to an e-mail tip that carries its follow-up code (off by default).

``TIPLINE_EMAIL_RECEIPT_REPLY`` turns it on. A reply to a forged sender is backscatter, so it
stays off unless the operator's mail set-up (SPF/DMARC checks upstream) makes that rare. The
reply goes to the envelope sender: the one address the sending system asked to hear back on.
That address is used once, in memory, to send the reply: it is not logged, not put in the
RawTip's receipt, and the reply is not kept.

No reply is sent to a null sender (a bounce), or to mail marked as automatic or bulk
(``Auto-Submitted``, ``Precedence: bulk|list|junk``, ``List-Id``): RFC 3834 rules, so two
auto-responders cannot loop. The reply is itself ``Auto-Submitted: auto-replied``.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, make_msgid
from typing import Final

from tipline.core.settings import Settings

log = logging.getLogger(__name__)

_BULK: Final = frozenset({"bulk", "list", "junk"})


def wants_reply(data: bytes, envelope_from: str | None) -> bool:
    """Whether a message may be answered automatically (RFC 3834 section 2)."""
    sender = (envelope_from or "").strip().strip("<>")
    if (
        not sender
        or "@" not in sender
        or sender.lower().startswith(("mailer-daemon@", "postmaster@"))
    ):
        return False
    headers = BytesHeaderParser().parsebytes(data)
    auto = str(headers.get("auto-submitted", "no")).strip().lower()
    precedence = str(headers.get("precedence", "")).strip().lower()
    return auto in ("", "no") and precedence not in _BULK and headers.get("list-id") is None


def receipt_message(settings: Settings, to: str, tip_id: str, code: str) -> EmailMessage:
    """The reply: the tip reference, the code and how to use it; nothing of the tip itself."""
    sender = settings.email_reply_from or settings.tips_addresses[0]
    where = (
        f"{settings.web_public_url.rstrip('/')}/followup"
        if settings.web_public_url
        else ("the follow-up page of the appeal's website")
    )
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Your tip was received"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(
        f"Thank you: your tip has been received (reference {tip_id}).\n\n"
        f"Your follow-up code: {code}\n\n"
        "Keep this code secret. With it, and only with it, you can see whether an investigator\n"
        f"has a question about your tip, and answer it, at {where}.\n"
        "We do not keep this e-mail or your address, and we cannot send the code again.\n"
    )
    return msg


def send_receipt(settings: Settings, to: str, tip_id: str, code: str) -> bool:
    """Send the reply through the configured relay; False (logged by tip id) if it failed."""
    host, _, port = settings.email_reply_smtp.rpartition(":")
    try:
        with smtplib.SMTP(host or "127.0.0.1", int(port or 25), timeout=10) as smtp:
            # Null reverse-path: a bounce of the reply must not come back as a new tip.
            smtp.send_message(receipt_message(settings, to, tip_id, code), from_addr="<>")
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        log.warning("receipt reply for tip %s not sent: %s", tip_id, type(exc).__name__)
        return False
    log.info("receipt reply sent for tip %s", tip_id)
    return True
