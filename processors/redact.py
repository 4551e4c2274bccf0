"""redact: the one boundary where a RawTip becomes a Tip and tipster data is stripped."""

from __future__ import annotations

import re
from collections import Counter

from processors.sender_key import SenderKeyer
from schemas import RawTip, RedactionKind, Tip

# First version: a few patterns; the multilingual rule set is issue #3's job.
_RULES: tuple[tuple[RedactionKind, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("PHONE", re.compile(r"\+?\d[\d ()./-]{7,}\d")),
    ("HANDLE", re.compile(r"(?<![\w@])@\w{2,30}(?:@[\w.-]+)?")),
)


def redact_text(text: str, counts: Counter[RedactionKind]) -> str:
    """Replace every identifying span in ``text`` with its typed placeholder, counting them."""
    for kind, pattern in _RULES:
        text, n = pattern.subn(f"[{kind}]", text)
        if n:
            counts[kind] += n
    return text


def redact(raw: RawTip, sender_keys: SenderKeyer) -> Tip:
    """Drop ``channel_meta``, derive the sender key, and mask identifying text."""
    counts: Counter[RedactionKind] = Counter()
    subject = redact_text(raw.subject, counts)
    body = redact_text(raw.body, counts)
    identity = raw.channel_meta.get("sender")
    sender_key = sender_keys(raw.channel, identity) if isinstance(identity, str) else None
    return Tip(
        tip_id=raw.tip_id,
        channel=raw.channel,
        received_at=raw.received_at,
        object_ref=raw.object_ref,
        object_refs=raw.object_refs,
        subject=subject,
        body=body,
        attachments=raw.attachments,
        sender_key=sender_key,
        redactions=dict(counts),
    )
