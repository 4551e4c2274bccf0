"""The worker's ops recorder: every 15 s, the group's lag per topic and the new dead letters'
metadata go to the reviewer database, for the console's /ops page (lag chart, dead letters by
reason). The review app reads only its database, never the broker, so the worker — which reads
the broker for its /metrics anyway — writes what the console shows.

Every worker records; the writes are idempotent (one lag sample per topic per slot, one row per
dead letter), so N workers give the same tables as one. A failed tick (database or broker
down) is logged and retried at the next; it never stops the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from store.ops import LAG_SLOT_S, record_dead_letters, record_lag
from tipline.deadletters import StoredDeadLetter
from tipline.lag import PartitionLag

log = logging.getLogger(__name__)


class OpsRecorder:
    """Records lag and dead-letter metadata; ``tick`` once, or ``start`` a daemon thread."""

    MAX_PENDING = 10_000

    def __init__(
        self,
        database_url: str,
        lags: Callable[[], Sequence[PartitionLag]],
        new_dead_letters: Callable[[], list[StoredDeadLetter]],
        dead_letters_kept: timedelta,
        interval_s: float = LAG_SLOT_S,
    ) -> None:
        self._url = database_url
        self._lags = lags
        self._new_dead_letters = new_dead_letters
        self._kept = dead_letters_kept
        self._interval = interval_s
        self._stop = threading.Event()
        self._pending: list[StoredDeadLetter] = []  # taken, not yet stored (database down)
        self._thread = threading.Thread(target=self._loop, name="ops-recorder", daemon=True)

    def tick(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        by_topic: dict[str, int] = {}
        lags = self._lags()
        for p in lags:
            by_topic[p.topic] = by_topic.get(p.topic, 0) + p.lag
        self._pending.extend(self._new_dead_letters())
        del self._pending[: -self.MAX_PENDING]  # a long outage keeps the newest only
        with psycopg.connect(self._url, connect_timeout=2, autocommit=True) as conn:
            if lags:  # no answer from the broker: no sample, rather than a false zero
                record_lag(conn, by_topic, now)
            record_dead_letters(conn, ((d.id, d.record) for d in self._pending), now, self._kept)
        self._pending = []

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick()
            except Exception as exc:  # the next tick tries again; the worker carries on
                log.warning("ops recorder tick failed: %s", type(exc).__name__)

    def start(self) -> OpsRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
