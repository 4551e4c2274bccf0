"""Dead letters: a record of what failed and why, with the tipster stripped out of it."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from datetime import UTC, datetime

from processors.redact import redact_text
from schemas import DeadLetter, RedactionKind
from schemas.dead import Stage
from tipline.core.errors import InvalidInputError

log = logging.getLogger(__name__)

_MAX_PAYLOAD = 50_000
# Kafka refuses records over 1 MB, so nothing bigger can reach a stage; above that we do not parse.
_MAX_PARSED = 2 * 1024 * 1024
_WITHHELD = "[payload withheld: scrubbing failed]"
_META_WITHHELD = "[transport metadata withheld]"
# In JSON too broken to parse, channel_meta is a flat object (values are strings or lists of
# strings), so it ends at the first "}" after its key; a key with no end withholds the rest.
_META_RE = re.compile(r'"channel_meta"\s*:\s*\{[^}]*\}?|"channel_meta".*', re.DOTALL)


def sanitise_payload(payload: bytes | None) -> str:
    """The failed message for an operator to inspect, minus anything that identifies the sender.

    The whole payload is parsed before anything is cut, so ``channel_meta`` is dropped however
    large the record (from an object at any depth; in broken JSON, from its key to its end).
    Everything left is passed through the redactor's text rules, so a message too broken to
    parse is still scrubbed, and lone surrogates are replaced so the letter is always writable.
    """
    if not payload:
        return ""
    try:
        return _sanitise(payload)
    except Exception:  # a dead letter must always be writable, even if scrubbing breaks
        log.exception("payload scrubbing failed; payload withheld")
        return _WITHHELD


def _drop_meta(value: object) -> object:
    if isinstance(value, dict):
        return {k: _drop_meta(v) for k, v in value.items() if k != "channel_meta"}
    if isinstance(value, list):
        return [_drop_meta(v) for v in value]
    return value


def _redact_strings(value: object, counts: Counter[RedactionKind]) -> object:
    if isinstance(value, str):
        return redact_text(value[: _MAX_PAYLOAD * 2], counts)
    if isinstance(value, dict):
        return {k: _redact_strings(v, counts) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(v, counts) for v in value]
    return value


def _sanitise(payload: bytes) -> str:
    text = payload[:_MAX_PARSED].decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        text = _META_RE.sub(_META_WITHHELD, text)
    else:
        # Each string redacted on its own, before JSON escapes its line breaks: the signature
        # and self-name rules read lines, and "\\n" in a dumped document is no line break.
        counts: Counter[RedactionKind] = Counter()
        text = json.dumps(_redact_strings(_drop_meta(value), counts), ensure_ascii=False)
    # The redactor's rules are linear but not free: scrub a generous prefix, not a megabyte.
    # (A second pass over parsed JSON finds nothing new: placeholders are never matched.)
    counts = Counter()
    scrubbed = redact_text(text[: _MAX_PAYLOAD * 2], counts)[:_MAX_PAYLOAD]
    # json.loads accepts "\ud800"; a lone surrogate would make the dead letter unencodable.
    return scrubbed.encode("utf-8", errors="replace").decode("utf-8")


def dead_letter(
    stage: Stage,
    exc: BaseException,
    payload: bytes | None,
    *,
    source_topic: str,
    partition: int | None = None,
    offset: int | None = None,
    tip_id: str | None = None,
) -> DeadLetter:
    """Describe a failed message. Only InvalidInputError reasons are shown verbatim: other
    exceptions' messages may quote input, so they are reduced to their type."""
    if isinstance(exc, InvalidInputError):
        reason = exc.reason.encode("utf-8", errors="replace").decode("utf-8")
        tip_id = tip_id or exc.tip_id
    else:
        reason = f"unexpected error in stage {stage}: {type(exc).__name__}"
    return DeadLetter(
        stage=stage,
        reason=reason,
        error=type(exc).__name__,
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        tip_id=tip_id,
        failed_at=datetime.now(UTC),
        payload=sanitise_payload(payload),
    )
