"""Every metric tipline exports, named once. A misspelt name fails type-checking, not a dashboard.

Each process serves its own registry on ``/metrics`` (prometheus-client; see tipline/health.py):
the web intake and review app on their own port, the worker and the mail/social pollers on
``TIPLINE_OPS_PORT``. The worker still logs the counts once a minute (ids and numbers only).

``Counters.add(name, n)`` is the stage API the worker calls; it feeds the Prometheus counter of
the same name (``tipline_<name>_total``) and the per-interval log line. Labelled metrics below
are module constants, used where the label is known (channel, stage, topic/partition).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Literal, get_args

from prometheus_client import Counter as PromCounter
from prometheus_client import Gauge, Histogram, disable_created_metrics

# The *_created series double every scrape and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

Metric = Literal[
    "tips_cleaned",  # raw tips normalised, redacted and language-tagged onto tips.clean
    "tips_triaged",  # clean tips clustered and scored onto tips.scored
    "tips_stored",  # scored tips newly inserted into the reviewer database
    "tips_already_stored",  # replayed tips the idempotent sink found stored (at-least-once)
    "dead_letters",  # messages sent to tips.dead, any stage
    "retries",  # transient failures (database, broker) retried with back-off
    "dedupe_restores",  # objects whose dedupe state was rebuilt from the database
    "activity_restores",  # sender keys whose recent tips were read back from the database
]
METRICS: tuple[Metric, ...] = get_args(Metric)

_HELP: dict[Metric, str] = {
    "tips_cleaned": "Raw tips normalised, redacted and language-tagged onto tips.clean.",
    "tips_triaged": "Clean tips clustered and scored onto tips.scored.",
    "tips_stored": "Scored tips newly inserted into the reviewer database.",
    "tips_already_stored": "Replayed tips the idempotent sink found already stored.",
    "dead_letters": "Messages sent to tips.dead, any stage.",
    "retries": "Transient failures (database, broker) retried with back-off.",
    "dedupe_restores": "Objects whose dedupe state was rebuilt from the database.",
    "activity_restores": "Sender keys whose recent tips were read back from the database.",
}
# The stage counters: one Prometheus counter per Metric, e.g. tipline_tips_cleaned_total.
STAGE_COUNTERS: dict[Metric, PromCounter] = {
    name: PromCounter(f"tipline_{name}", _HELP[name]) for name in METRICS
}

# Latency buckets from 1 ms to 2 min: a stage is milliseconds, a drain after a surge minutes.
_SECONDS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

# --- intake (ingest adapters, through the one producer) ---
TIPS_ACCEPTED = PromCounter(
    "tipline_tips_accepted", "Tips the broker acknowledged at intake, by channel.", ["channel"]
)
TIPS_NOT_ACCEPTED = PromCounter(
    "tipline_tips_not_accepted",
    "Tips intake could not hand to the broker (sender told to retry), by channel.",
    ["channel"],
)
INTAKE_ACK_SECONDS = Histogram(
    "tipline_intake_ack_seconds",
    "Time from handing a tip to the producer to the broker's acks=all, by channel.",
    ["channel"],
    buckets=_SECONDS,
)
RATE_LIMITED = PromCounter(
    "tipline_rate_limited",
    "Requests a rate limit refused (429), by limit: address, partner, overall, credentials.",
    ["limit"],
)
HTTP_REFUSED = PromCounter(
    "tipline_http_refused",
    "HTTP requests refused: 429 rate limit, 503 draining/unavailable, 413 too large.",
    ["service", "status"],
)

# --- stages (worker) ---
STAGE_SECONDS = Histogram(
    "tipline_stage_seconds",
    "Time one tip spends in one step of a flow (normalise, redact, dedupe, ...), by step.",
    ["stage"],
    buckets=(0.00005, 0.0001, 0.00025, 0.0005, *_SECONDS),  # most steps take microseconds
)
STAGE_TIPS = PromCounter(
    "tipline_stage_tips",
    "Tips through a runner by stage (clean, triage, sink), channel and outcome: in (read),"
    " out (passed on or stored), dead (dead-lettered).",
    ["stage", "channel", "outcome"],
)
DEAD_LETTERS_BY_REASON = PromCounter(
    "tipline_dead_letters_by_reason",
    "Dead letters by stage and error class (the reason's kind, never its text).",
    ["stage", "error"],
)
DEDUPE_OBJECTS = Gauge("tipline_dedupe_objects", "Objects whose dedupe state a worker holds.")
DEDUPE_EXEMPLARS = Gauge(
    "tipline_dedupe_exemplars", "Tips indexed in the dedupe state a worker holds (all objects)."
)
SINK_BATCH_SIZE = Histogram(
    "tipline_sink_batch_size",
    "Tips per sink transaction.",
    buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000, 2000),
)
SINK_COMMIT_SECONDS = Histogram(
    "tipline_sink_commit_seconds",
    "Time of one sink transaction, commit included.",
    buckets=_SECONDS,
)
SINK_RESCORED = PromCounter(
    "tipline_sink_rescored",
    "Stored tips whose crowd reason and score the sink rewrote as corroboration grew.",
)

# --- consumer lag (worker; computed on scrape from the broker, see tipline/lag.py) ---
CONSUMER_LAG_NAME = "tipline_consumer_lag"  # records past the group's committed offset
HIGH_WATER_NAME = "tipline_high_water"  # the partition's real end (one past the last record)
COMMITTED_NAME = "tipline_committed_offset"  # the group's committed offset

DEAD_LETTERS_ON_TOPIC_NAME = "tipline_dead_letters_on_topic"  # by stage and error (worker)

# --- reviewer database (review app; computed on scrape from PostgreSQL) ---
COMMIT_DELAY_NAME = "tipline_intake_to_row_seconds"  # received → row committed, live channels
ROWS_NAME = "tipline_rows_5m"  # rows committed in the last five minutes


class Counters:
    """Thread-safe counters for the metrics above, read and reset by the reporter.

    ``add`` also increments the Prometheus counter of the same name, so callers need not know
    that Prometheus exists.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Metric] = Counter()

    def add(self, metric: Metric, n: int = 1) -> None:
        with self._lock:
            self._counts[metric] += n
        if n > 0:
            STAGE_COUNTERS[metric].inc(n)

    def take(self) -> dict[Metric, int]:
        """Every metric's count since the last take (zeros included), then start again."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return {metric: counts[metric] for metric in METRICS}


def report(counts: dict[Metric, int]) -> str:
    """One log line: 'tips_cleaned=120 tips_triaged=118 …'."""
    return " ".join(f"{name}={value}" for name, value in counts.items())
