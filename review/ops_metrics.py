"""The review app's database-side metrics, computed on scrape: how long live tips take from
receipt to a committed row, and how many rows the last five minutes committed.

A Prometheus histogram of this would need the sink to know the receipt time of every row it
commits; the database already has both times (``received_at``, ``ingested_at``), so the review
app, which reads that database anyway, reports them. Imports are left out: their
``received_at`` is when the partner got the tip, maybe years ago.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import psycopg
from prometheus_client.core import GaugeMetricFamily

from tipline.core.metrics import COMMIT_DELAY_NAME, ROWS_NAME

log = logging.getLogger(__name__)

_QUERY = """
SELECT count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - received_at)),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ingested_at - received_at)),
       max(extract(epoch FROM ingested_at - received_at))
FROM tips
WHERE ingested_at >= now() - interval '5 minutes' AND channel <> 'import'
"""


class CommitDelayCollector:
    """Receipt → committed-row delay quantiles of the last five minutes (cached 5 s)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._at = 0.0
        self._row: tuple[int, float | None, float | None, float | None] | None = None

    def _read(self) -> tuple[int, float | None, float | None, float | None] | None:
        with self._lock:
            if time.monotonic() - self._at > 5.0:
                self._at = time.monotonic()
                try:
                    with psycopg.connect(self._url, connect_timeout=2) as conn:
                        conn.execute("SET statement_timeout = '2s'")
                        row = conn.execute(_QUERY).fetchone()
                    self._row = (int(row[0]), row[1], row[2], row[3]) if row else None
                except psycopg.Error as exc:
                    log.warning("commit-delay metrics unavailable: %s", type(exc).__name__)
                    self._row = None
            return self._row

    def collect(self) -> Iterator[GaugeMetricFamily]:
        row = self._read()
        if row is None:
            return
        count, p50, p95, worst = row
        rows = GaugeMetricFamily(ROWS_NAME, "Live-channel rows committed in the last 5 minutes.")
        rows.add_metric([], count)
        yield rows
        delay = GaugeMetricFamily(
            COMMIT_DELAY_NAME,
            "Receipt to committed row, live channels, last 5 minutes, by quantile.",
            labels=["quantile"],
        )
        for q, value in (("0.5", p50), ("0.95", p95), ("1", worst)):
            if value is not None:
                delay.add_metric([q], float(value))
        yield delay
