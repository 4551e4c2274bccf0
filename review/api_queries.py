"""Pure helpers of the review app: queue SQL, keyset cursors, status rules and display.

Nothing here talks to the database or to HTTP, so every rule the analysts rely on (which tip
stands for its cluster, what comes after a page, which status may follow which, how a tipster
is shown) is tested without I/O in ``tests/unit/review/``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, get_args

Status = Literal["new", "reviewing", "lead", "dismissed"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)

# new → reviewing → lead | dismissed, as the appeal process runs. A finished tip can only go
# back to "reviewing" (reopened, and audited), so a bulk cluster change never turns a lead into a
# dismissal in one step; "reviewing → new" hands a tip back to the queue.
TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    "new": frozenset({"reviewing", "dismissed"}),
    "reviewing": frozenset({"lead", "dismissed", "new"}),
    "lead": frozenset({"reviewing"}),
    "dismissed": frozenset({"reviewing"}),
}

MAX_PAGE: Final = 200
DEFAULT_PAGE: Final = 50
SHORT_TEXT_CHARS: Final = 200
TIPSTER_TAG_CHARS: Final = 6
CHANNELS: Final = ("web", "email", "social", "import")
_HEX: Final = re.compile(r"[0-9a-f]+")


def can_change(current: str, target: str) -> bool:
    """Whether a tip in status ``current`` may be moved to ``target``."""
    allowed = TRANSITIONS.get(current)  # type: ignore[call-overload]
    return allowed is not None and target in allowed


def tipster_label(sender_key: str | None) -> str:
    """What an analyst sees of a sender key: enough to group tips, never the whole key.

    ``k1:3f9a12…`` becomes ``tipster #3f9a12``. The key id is left out: it names the secret,
    not the sender, and six hex digits already tell a queue's senders apart.
    """
    if not sender_key:
        return "no sender key"
    digest = sender_key.rpartition(":")[2].lower()
    if len(digest) < TIPSTER_TAG_CHARS or not _HEX.fullmatch(digest):
        # Not the shape SenderKeyer makes: show nothing of it rather than something revealing.
        return "tipster #??????"
    return f"tipster #{digest[:TIPSTER_TAG_CHARS]}"


def short_text(subject: str, body: str, limit: int = SHORT_TEXT_CHARS) -> str:
    """One line for a queue row: subject and body with whitespace folded, cut at a word."""
    flat = " ".join(f"{subject} {body}".split()) if subject else " ".join(body.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut + "…"


# --- keyset cursors --------------------------------------------------------------------------


class CursorError(ValueError):
    """An ``after`` token that this app did not make (or that was mangled on the way)."""


@dataclass(frozen=True)
class QueueCursor:
    """The last row of a page, in the queue's order: tips about open objects first (an
    identified or retired object's tips sink, they do not vanish), then score down, oldest
    first, then id."""

    score: int
    received_at: datetime
    tip_id: str
    object_closed: bool = False

    def encode(self) -> str:
        payload = [self.score, self.received_at.astimezone(UTC).isoformat(), self.tip_id]
        if self.object_closed:
            payload.append(1)
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> QueueCursor:
        if len(token) > 400:
            raise CursorError("cursor too long")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            # Three fields (a page among open objects' tips, and every older cursor) or four.
            score, received, tip_id, *rest = json.loads(raw)
            at = datetime.fromisoformat(received)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise CursorError("not a queue cursor") from exc
        if (
            type(score) is not int
            or not 0 <= score <= 100
            or not isinstance(tip_id, str)
            or not tip_id
            or at.tzinfo is None
            or rest not in ([], [1])
        ):
            raise CursorError("not a queue cursor")
        return cls(
            score=score, received_at=at.astimezone(UTC), tip_id=tip_id, object_closed=bool(rest)
        )


# --- the queue query -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """What the analyst asked the queue for."""

    status: Status = "new"
    object_ref: str | None = None
    language: str | None = None
    limit: int = DEFAULT_PAGE
    after: QueueCursor | None = None
    search: str | None = None
    photos: bool = False


_QUEUE_SELECT: Final = """
SELECT t.tip_id, t.object_ref, t.language, t.score, t.reasons, t.evidence, t.received_at,
       t.subject, left(t.body, 400) AS body, t.status, t.channel, t.sender_key, t.cluster_id,
       coalesce(c.size, 1) AS cluster_size,
       coalesce(c.distinct_senders, 1) AS independent_tipsters,
       jsonb_array_length(t.attachments) AS photos, t.object_closed,
       (SELECT cl.analyst FROM claims cl
         WHERE cl.unit = coalesce(t.cluster_id, 'tip:' || t.tip_id) AND cl.expires_at > now())
           AS claimed_by
FROM tips t
LEFT JOIN clusters c ON c.cluster_id = t.cluster_id
WHERE t.status = %(status)s"""

# One row per cluster: a tip is shown unless a tip of its cluster that matches the same filters
# ranks above it. Unlike "the cluster's first tip", this never hides a cluster whose first tip
# was dismissed on its own, and it is one index probe (tips_cluster_best) per candidate row.
_BETTER_IN_CLUSTER: Final = """
  AND NOT EXISTS (
      SELECT 1 FROM tips b
      WHERE b.cluster_id = t.cluster_id AND b.status = t.status{same_filters}
        AND (b.object_closed < t.object_closed
             OR (b.object_closed = t.object_closed
                 AND (b.score > t.score
                      OR (b.score = t.score
                          AND (b.received_at, b.tip_id) < (t.received_at, t.tip_id))))))"""

# Candidates for a text search: the tips of the chunks whose text matches (migration 110; the
# chunks hold lower-cased text, and ILIKE is LIKE on lower() of both sides). ``IS TRUE`` keeps
# the test a filter (one hashed set, probed as the queue's index is walked in order, stopping at
# the page's end): as a join, every candidate of a common fragment was fetched and sorted
# (≈ 2 s instead of ≈ 0.1 s for "und" over 100k tips).
_IN_SEARCH_CHUNKS: Final = """
  AND (t.tip_id IN (SELECT unnest(s.tip_ids) FROM tip_search s
                    WHERE s.doc LIKE lower(%(search)s))) IS TRUE"""

_AFTER_IN_GROUP: Final = """(t.score < %(after_score)s
       OR (t.score = %(after_score)s
           AND (t.received_at, t.tip_id) > (%(after_at)s, %(after_id)s)))"""
# After a row of an open object's tip: the rest of those, then every closed object's tip.
_AFTER_OPEN: Final = "\n  AND (t.object_closed OR " + _AFTER_IN_GROUP + ")"
# After a closed object's tip: only those remain (an equality the index walk starts from).
_AFTER_CLOSED: Final = "\n  AND t.object_closed AND " + _AFTER_IN_GROUP

_ORDER: Final = """
ORDER BY t.object_closed, t.score DESC, t.received_at, t.tip_id
LIMIT %(limit)s"""


def queue_query(wanted: QueueFilter) -> tuple[str, dict[str, Any]]:
    """SQL and parameters for one queue page (``limit + 1`` rows: the extra says "more")."""
    if wanted.status not in STATUSES:
        raise ValueError(f"unknown status {wanted.status!r}")
    params: dict[str, Any] = {
        "status": wanted.status,
        "limit": max(1, min(wanted.limit, MAX_PAGE)) + 1,
    }
    # Only fixed fragments are joined; every value travels as a parameter.
    filters: list[str] = []
    if wanted.object_ref is not None:
        params["object_ref"] = wanted.object_ref
        filters.append("{a}.object_ref = %(object_ref)s")
    if wanted.language is not None:
        params["language"] = wanted.language
        filters.append("{a}.language = %(language)s")
    search = ""
    if wanted.search:
        # A fragment in any script ("Rossm", "Graz", "ул."): the trigram index of the search
        # chunks (migration 110) finds the chunks that hold it, the ILIKE on each of their tips
        # keeps exactly the tips that do.
        params["search"] = "%" + like_escape(wanted.search) + "%"
        filters.append("({a}.body ILIKE %(search)s OR {a}.subject ILIKE %(search)s)")
        search = _IN_SEARCH_CHUNKS
    if wanted.photos:
        filters.append("{a}.attachments <> '[]'::jsonb")
    sql = _QUEUE_SELECT + "".join("\n  AND " + f.format(a="t") for f in filters) + search
    sql += _BETTER_IN_CLUSTER.format(
        same_filters="".join(" AND " + f.format(a="b") for f in filters)
    )
    if wanted.after is not None:
        params.update(
            after_score=wanted.after.score,
            after_at=wanted.after.received_at,
            after_id=wanted.after.tip_id,
        )
        sql += _AFTER_CLOSED if wanted.after.object_closed else _AFTER_OPEN
    return sql + _ORDER, params


def like_escape(text: str) -> str:
    """``text`` as a literal inside an ILIKE pattern (PostgreSQL's default escape is ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_of(
    rows: list[Mapping[str, Any]], limit: int
) -> tuple[list[Mapping[str, Any]], QueueCursor | None]:
    """Split ``limit + 1`` fetched rows into the page and the cursor of the next page."""
    limit = max(1, min(limit, MAX_PAGE))
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    last = page[-1]
    return page, QueueCursor(
        score=int(last["score"]),
        received_at=last["received_at"],
        tip_id=str(last["tip_id"]),
        object_closed=bool(last.get("object_closed", False)),
    )


# --- ops: a per-minute table without holes -----------------------------------------------------


@dataclass(frozen=True)
class MinuteRow:
    """One minute of throughput over every channel; minutes with no tips are rows of zeros."""

    minute: datetime
    by_channel: Mapping[str, int]
    total: int
    mean_delay_s: float | None


def minute_table(rows: Iterable[Mapping[str, Any]], now: datetime, minutes: int) -> list[MinuteRow]:
    """The last ``minutes`` minutes up to ``now``'s minute, newest first, gaps as zeros.

    A stalled pipeline shows as a run of zero rows, which a table of only the minutes that had
    tips would hide.
    """
    end = now.astimezone(UTC).replace(second=0, microsecond=0)
    counts: dict[datetime, dict[str, int]] = {}
    delay_sums: dict[datetime, float] = {}
    delay_tips: dict[datetime, int] = {}  # only rows with a delay (imports have none)
    for row in rows:
        minute = row["minute"].astimezone(UTC)
        tips = int(row["tips"])
        counts.setdefault(minute, {})
        counts[minute][row["channel"]] = counts[minute].get(row["channel"], 0) + tips
        if row.get("mean_delay_s") is not None:
            delay_sums[minute] = delay_sums.get(minute, 0.0) + float(row["mean_delay_s"]) * tips
            delay_tips[minute] = delay_tips.get(minute, 0) + tips
    table = []
    for back in range(max(minutes, 1)):
        minute = end - timedelta(minutes=back)
        by_channel = counts.get(minute, {})
        total = sum(by_channel.values())
        delay = delay_sums[minute] / delay_tips[minute] if delay_tips.get(minute) else None
        table.append(
            MinuteRow(
                minute=minute,
                by_channel={ch: by_channel.get(ch, 0) for ch in CHANNELS},
                total=total,
                mean_delay_s=delay,
            )
        )
    return table


# --- redirects -------------------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/queue") -> str:
    """A post-login redirect target that stays on this site (no ``//host`` or ``/\\host``)."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ch in target for ch in "\r\n\t\\")
        or len(target) > 2000
    ):
        return default
    return target
