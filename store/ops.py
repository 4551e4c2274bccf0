"""Operations samples in the reviewer database: consumer lag over time, dead-letter metadata.

Written by the worker's recorder (tipline/ops_recorder.py), read by the console's /ops page.
A dead letter is kept here as metadata only — stage, error class, reason, tip id, time and
where it failed — never its payload: the reason names a failing field, not the tip's text
(processors/deadletter.py scrubs it). Both tables are pruned by the recorder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg

from schemas import DeadLetter

LAG_SLOT_S: Final = 15  # one lag sample per topic per 15-second slot, whichever worker writes
LAG_KEPT: Final = timedelta(days=2)

_UPSERT_LAG: Final = """
INSERT INTO ops_lag (sampled_at, topic, lag) VALUES (%s, %s, %s)
ON CONFLICT (sampled_at, topic) DO UPDATE SET lag = excluded.lag
"""
_INSERT_LETTER: Final = """
INSERT INTO dead_letter_log
    (letter_key, dead_id, stage, error, reason, tip_id, source_topic, failed_at)
VALUES (%(letter_key)s, %(dead_id)s, %(stage)s, %(error)s, %(reason)s, %(tip_id)s,
        %(source_topic)s, %(failed_at)s)
ON CONFLICT (letter_key) DO UPDATE SET dead_id = excluded.dead_id
"""


def lag_slot(now: datetime) -> datetime:
    """The start of the 15-second slot ``now`` falls in."""
    epoch = int(now.timestamp()) // LAG_SLOT_S * LAG_SLOT_S
    return datetime.fromtimestamp(epoch, UTC)


def letter_key(letter: DeadLetter) -> str:
    return (
        f"{letter.source_topic}:{letter.partition}:{letter.offset}:"
        f"{letter.failed_at.isoformat()}:{letter.stage}"
    )


def record_lag(
    conn: psycopg.Connection[Any], lag_by_topic: Mapping[str, int], now: datetime
) -> None:
    """Store one sample per topic for the slot of ``now``, and drop samples past LAG_KEPT."""
    slot = lag_slot(now)
    with conn.transaction():
        for topic, lag in sorted(lag_by_topic.items()):
            conn.execute(_UPSERT_LAG, (slot, topic, max(int(lag), 0)))
        conn.execute("DELETE FROM ops_lag WHERE sampled_at < %s", (now - LAG_KEPT,))


def record_dead_letters(
    conn: psycopg.Connection[Any],
    letters: Iterable[tuple[str, DeadLetter]],
    now: datetime,
    kept: timedelta,
) -> int:
    """Store each (dead id, letter)'s metadata once; drop what is older than ``kept``."""
    rows = [
        {
            "letter_key": letter_key(letter),
            "dead_id": dead_id,
            "stage": letter.stage,
            "error": letter.error,
            "reason": letter.reason[:500],
            "tip_id": letter.tip_id,
            "source_topic": letter.source_topic,
            "failed_at": letter.failed_at,
        }
        for dead_id, letter in letters
    ]
    with conn.transaction():
        if rows:
            with conn.cursor() as cur:
                cur.executemany(_INSERT_LETTER, rows)
        conn.execute("DELETE FROM dead_letter_log WHERE failed_at < %s", (now - kept,))
    return len(rows)


# --- reads for the console ----------------------------------------------------------------


@dataclass(frozen=True)
class LagMinute:
    """The highest total lag (all topics) sampled in one minute."""

    minute: datetime
    lag: int


@dataclass(frozen=True)
class ReasonCount:
    stage: str
    error: str
    reason: str
    count: int
    latest: datetime


@dataclass(frozen=True)
class LetterRow:
    """What the console shows of one dead letter: never its payload."""

    dead_id: str
    stage: str
    error: str
    reason: str
    tip_id: str | None
    failed_at: datetime


LAG_PER_MINUTE: Final = """
SELECT date_trunc('minute', sampled_at) AS minute, max(total) AS lag
FROM (SELECT sampled_at, sum(lag) AS total FROM ops_lag
      WHERE sampled_at >= %(since)s GROUP BY sampled_at) slots
GROUP BY 1 ORDER BY 1
"""
BY_REASON: Final = """
SELECT stage, error, reason, count(*) AS count, max(failed_at) AS latest
FROM dead_letter_log WHERE failed_at >= %(since)s
GROUP BY stage, error, reason ORDER BY count(*) DESC, max(failed_at) DESC LIMIT 50
"""
LATEST_LETTERS: Final = """
SELECT dead_id, stage, error, reason, tip_id, failed_at
FROM dead_letter_log WHERE failed_at >= %(since)s
ORDER BY failed_at DESC LIMIT %(limit)s
"""
