"""redact: the one boundary where a RawTip becomes a Tip and tipster data is stripped."""

from __future__ import annotations

import bisect
import logging
from collections import Counter
from collections.abc import Callable
from functools import partial

from processors.pii import Span, placeholder
from processors.pii.numbers import (
    find_cards,
    find_ibans,
    find_ips,
    find_phones,
    find_protected_numbers,
    has_long_number,
)
from processors.pii.person import find_addresses, find_self_names, find_signatures
from processors.pii.web import find_emails, find_handles, find_urls
from processors.sender_key import SenderKeyer, spilled_key
from schemas import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, RawTip, RedactionKind, Tip

logger = logging.getLogger(__name__)

UNDETERMINED = "und"  # the language code of a tip whose language is not known

Finder = Callable[[str], list[Span]]

# Rules in priority order: an earlier rule claims its text and later rules cannot overlap it.
# URLs come first (a product URL is full of digits and may hold an e-mail token); the evidence
# numbers (dates, prices, barcodes) are claimed before the card and phone rules can see them.
# The flag says whether a rule reads the text with earlier claims masked out: the number rules
# must (a phone number right after a date would otherwise be read as one long number); the
# phrase rules read the original text, which lets them share its cached word set.
_TEXT_RULES: tuple[tuple[Finder, bool], ...] = (
    (find_urls, True),
    (find_emails, True),
    (find_ips, True),  # before the number gate: "10.0.0.1" has only five digits
)
_NUMBER_RULES: tuple[tuple[Finder, bool], ...] = (
    (find_ibans, True),
    (find_protected_numbers, False),
    (find_cards, True),
    (find_phones, True),
)
_IDENTITY_RULES: tuple[tuple[Finder, bool], ...] = (
    (find_handles, True),
    (find_addresses, False),
    (find_signatures, False),
    (find_self_names, False),
)
_SHARED_FIELDS = tuple(
    name for name in RawTip.model_fields if name in Tip.model_fields and name != "channel_meta"
)


def _identity_rules(language: str) -> tuple[tuple[Finder, bool], ...]:
    """The identity rules for a tip in ``language``: the self-name rule reads it."""
    if language == UNDETERMINED:
        return _IDENTITY_RULES
    names: Finder = partial(find_self_names, language=language)
    return tuple((names if rule is find_self_names else rule, m) for rule, m in _IDENTITY_RULES)


def _spans(text: str, language: str) -> list[Span]:
    rules = _TEXT_RULES
    if has_long_number(text):
        rules += _NUMBER_RULES
    rules += _identity_rules(language)
    claimed: list[Span] = []
    # Claimed ranges, sorted and disjoint, so an overlap check is a bisection: checking each
    # span against every claim took 15 s for a 20,000-character tip of "@a @a @a …".
    taken: list[tuple[int, int]] = []
    masked = text
    for rule, sees_masked in rules:
        found: list[Span] = []
        for s in rule(masked if sees_masked else text):
            i = bisect.bisect_left(taken, (s.end, -1))  # taken[:i] start before s ends
            if i and taken[i - 1][1] > s.start and s.start < s.end:
                continue
            if s.start == s.end and i and taken[i - 1][0] < s.start < taken[i - 1][1]:
                continue
            bisect.insort(taken, (s.start, s.end))
            found.append(s)
        if found:
            claimed.extend(found)
            # Claimed text becomes NULs (same length, so offsets hold): later rules neither
            # re-match it nor read half of it as part of something else.
            chars = list(masked)
            for s in found:
                chars[s.start : s.end] = "\0" * (s.end - s.start)
            masked = "".join(chars)
    return claimed


# Placeholders are longer than the shortest things they replace ("@a" -> "[HANDLE]"), so a
# redacted text can outgrow the limit its raw form was accepted under. The intake has already
# told the tipster "saved": the tail is cut (never inside a placeholder) and marked, rather than
# the whole tip dead-lettered.
GROWTH_MARKER = " [… shortened after redaction]"


def _fit(parts: list[tuple[str, bool]], limit: int) -> str:
    """Join ``(piece, is_placeholder)`` pieces within ``limit`` characters, marking a cut."""
    budget = limit - len(GROWTH_MARKER)
    out: list[str] = []
    used = 0
    for piece, atomic in parts:
        room = budget - used
        if len(piece) <= room:
            out.append(piece)
            used += len(piece)
            continue
        if not atomic:
            out.append(piece[:room])
        break
    return "".join(out).rstrip() + GROWTH_MARKER


def redact_text(
    text: str,
    counts: Counter[RedactionKind],
    language: str = UNDETERMINED,
    *,
    limit: int | None = None,
) -> str:
    """Replace every identifying span in ``text`` with its typed placeholder, counting them.

    ``language`` is the tip's detected language (``und`` if unknown): rules that would
    misfire on ordinary words of other languages then use that language's phrases only.

    Placeholders are never matched by any rule, so the function is idempotent; text with nothing
    to redact is returned unchanged (the same object). With ``limit``, a result that redaction
    made longer than ``limit`` is cut to fit and ends in ``GROWTH_MARKER``.
    """
    if not text:
        return text
    spans = [s for s in _spans(text, language) if s.kind is not None]
    if not spans:
        return text
    spans.sort()
    parts: list[tuple[str, bool]] = []
    last = 0
    for span in spans:
        assert span.kind is not None  # filtered above; narrows the type for mypy
        parts.append((text[last : span.start], False))
        replacement = span.replacement if span.replacement is not None else placeholder(span.kind)
        parts.append((replacement, True))
        counts[span.kind] += span.n
        last = span.end
    parts.append((text[last:], False))
    joined = "".join(piece for piece, _ in parts)
    if limit is not None and len(joined) > limit:
        return _fit(parts, limit)
    return joined


def redact(raw: RawTip, sender_keys: SenderKeyer) -> Tip:
    """Drop ``channel_meta``, derive the sender key, and mask identifying text.

    Reads ``raw.language`` (set by detect_language on the normalised RawTip; ``und`` if the flow
    has not detected it) and carries it to the Tip with every other shared field."""
    counts: Counter[RedactionKind] = Counter()
    subject = redact_text(raw.subject, counts, raw.language, limit=MAX_SUBJECT_CHARS)
    body = redact_text(raw.body, counts, raw.language, limit=MAX_BODY_CHARS)
    identity = raw.channel_meta.get("sender")
    if isinstance(identity, str):
        sender_key: str | None = sender_keys(raw.channel, identity)
    else:  # re-sent from a spill file, which holds the derived key instead of the identity
        sender_key = spilled_key(raw.channel_meta)
    if counts:
        logger.debug("tip %s: %d redactions", raw.tip_id, sum(counts.values()))
    # Copy every field the two models share, so a field the lead adds to both travels without
    # an edit here; channel_meta is the one RawTip field that must not cross.
    shared = {
        name: getattr(raw, name) for name in _SHARED_FIELDS if name not in ("subject", "body")
    }
    return Tip(
        **shared,
        subject=subject,
        body=body,
        sender_key=sender_key,
        redactions=dict(counts),
    )
