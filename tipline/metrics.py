"""Every metric tipline counts, named once. A misspelt name fails type-checking, not a dashboard.

The worker logs the counts once a minute (ids and numbers only); the reviewer database's
``throughput_per_minute`` view and the Grafana board in deploy/ show what reached analysts.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Literal, get_args

Metric = Literal[
    "tips_cleaned",  # raw tips normalised, redacted and language-tagged onto tips.clean
    "tips_triaged",  # clean tips clustered and scored onto tips.scored
    "tips_stored",  # scored tips newly inserted into the reviewer database
    "tips_already_stored",  # replayed tips the idempotent sink found stored (at-least-once)
    "dead_letters",  # messages sent to tips.dead, any stage
    "retries",  # transient failures (database, broker) retried with back-off
    "dedupe_restores",  # objects whose dedupe state was rebuilt from the database
]
METRICS: tuple[Metric, ...] = get_args(Metric)


class Counters:
    """Thread-safe counters for the metrics above, read and reset by the reporter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Metric] = Counter()

    def add(self, metric: Metric, n: int = 1) -> None:
        with self._lock:
            self._counts[metric] += n

    def take(self) -> dict[Metric, int]:
        """Every metric's count since the last take (zeros included), then start again."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return {metric: counts[metric] for metric in METRICS}


def report(counts: dict[Metric, int]) -> str:
    """One log line: 'tips_cleaned=120 tips_triaged=118 …'."""
    return " ".join(f"{name}={value}" for name, value in counts.items())
