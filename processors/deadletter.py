"""Dead letters: a record of what failed and why, with the tipster stripped out of it."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime

from processors.redact import redact_text
from schemas import DeadLetter, RedactionKind
from schemas.dead import Stage
from tipline.errors import InvalidInputError

log = logging.getLogger(__name__)

_MAX_PAYLOAD = 50_000
_WITHHELD = "[payload withheld: scrubbing failed]"


def sanitise_payload(payload: bytes | None) -> str:
    """The failed message for an operator to inspect, minus anything that identifies the sender.

    ``channel_meta`` is dropped whole when the payload is a JSON object; everything left is passed
    through the redactor's text rules, so a message too broken to parse is still scrubbed.
    """
    if not payload:
        return ""
    try:
        return _sanitise(payload)
    except Exception:  # a dead letter must always be writable, even if scrubbing breaks
        log.exception("payload scrubbing failed; payload withheld")
        return _WITHHELD


def _sanitise(payload: bytes) -> str:
    text = payload[: _MAX_PAYLOAD * 2].decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        value.pop("channel_meta", None)
        text = json.dumps(value, ensure_ascii=False)
    # json.loads turns an escaped lone surrogate ("\\ud800") into a str no UTF-8 encoder takes:
    # the dead letter itself would then fail to build, and the record would stall its partition.
    text = text.encode("utf-8", "replace").decode("utf-8")
    counts: Counter[RedactionKind] = Counter()
    return redact_text(text, counts)[:_MAX_PAYLOAD]


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
        reason = exc.reason
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
