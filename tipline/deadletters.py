"""Dead letters for operators: list, show, and replay after a fix.

A dead letter's id is ``<partition>-<offset>`` on the dead-letter topic. Reading assigns
partitions by hand (no consumer group), so it joins nothing and commits nothing: it never
disturbs the workers.

Replay sends a dead letter's payload back to the topic it failed on (its ``source_topic``),
keyed by tip id, so the stage that refused it sees it again. The payload is the scrubbed one
(``channel_meta`` dropped, text redacted), so a replayed tip carries no more about its sender
than the dead letter did. Replay is at-least-once: replaying twice is harmless for the sink
(``ON CONFLICT (tip_id) DO NOTHING``), and a tip that fails again is dead-lettered again, with a
new id. Kept: on Apache Kafka by the topic's retention (`tipline topics`); on the embedded
broker by the spill at stop, for TIPLINE_DEAD_LETTER_RETENTION_DAYS.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client.core import GaugeMetricFamily

from schemas import DeadLetter
from tipline.core.metrics import DEAD_LETTERS_ON_TOPIC_NAME

log = logging.getLogger(__name__)

WITHHELD = "[payload withheld: scrubbing failed]"


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter with where it sits on the dead-letter topic."""

    id: str
    record: DeadLetter


def read_dead_letters(
    bootstrap: str, topic: str, timeout_s: float = 2.0, **client_options: Any
) -> list[DeadLetter]:
    """Every dead letter currently on ``topic``, oldest first per partition."""
    return [stored.record for stored in read_stored(bootstrap, topic, timeout_s, **client_options)]


def read_stored(
    bootstrap: str, topic: str, timeout_s: float = 2.0, **client_options: Any
) -> list[StoredDeadLetter]:
    """Every dead letter on ``topic`` with its id, oldest first (by failure time).
    ``client_options``: kafka-python security options (tipline.core.security)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout_s * 1000),
        client_id="tipline-dead-reader",
        **client_options,
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        found = [
            StoredDeadLetter(
                f"{record.partition}-{record.offset}",
                DeadLetter.model_validate_json(record.value),
            )
            for record in consumer
        ]
    finally:
        consumer.close()
    return sorted(found, key=lambda d: d.record.failed_at)


def select(
    letters: Iterable[StoredDeadLetter],
    *,
    reason: str | None = None,
    since: datetime | None = None,
    ids: Iterable[str] = (),
) -> list[StoredDeadLetter]:
    """Dead letters whose reason contains ``reason`` (case-insensitive), failed at or after
    ``since``, and (when given) among ``ids``."""
    wanted = set(ids)
    return [
        d
        for d in letters
        if (reason is None or reason.lower() in d.record.reason.lower())
        and (since is None or d.record.failed_at >= since)
        and (not wanted or d.id in wanted)
    ]


def replayable(letter: DeadLetter, topics: Iterable[str]) -> bool:
    """Only a payload we still have, back onto one of the pipeline's input topics."""
    return bool(letter.payload) and letter.payload != WITHHELD and letter.source_topic in topics


def partition_key(letter: DeadLetter) -> bytes | None:
    """The key the stages use (``TipContent.partition_key``: the object, else the tip id), so a
    replayed tip lands where its object's dedupe state lives."""
    try:
        data = json.loads(letter.payload)
    except ValueError:
        data = None
    if isinstance(data, dict):
        key = data.get("object_ref") or data.get("tip_id") or letter.tip_id
    else:
        key = letter.tip_id
    return str(key).encode() if key else None


def replay(
    bootstrap: str,
    letters: Iterable[StoredDeadLetter],
    timeout_s: float = 30.0,
    **client_options: Any,
) -> int:
    """Send each dead letter's payload back to its source topic (acks=all); returns the count."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        acks="all",
        enable_idempotence=True,
        client_id="tipline-dead-replay",
        **client_options,
    )
    try:
        futures = [
            producer.send(
                d.record.source_topic, key=partition_key(d.record), value=d.record.payload.encode()
            )
            for d in letters
        ]
        producer.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)
    finally:
        producer.close(timeout=timeout_s)
    return len(futures)


class DeadLetterCollector:
    """Prometheus collector: dead letters on the topic by stage and error class (the reason's
    kind; the reason text names fields and would make unbounded labels). Reads only what is new
    since the last scrape, from partitions assigned by hand (no group, no commits).

    What it reads is also kept (bounded) for ``take_new``, so the worker's ops recorder can
    store the dead letters' metadata for the console without reading the topic a second time.
    """

    KEEP_NEW = 10_000  # dead letters held for take_new between two recorder ticks

    def __init__(self, bootstrap: str, topic: str, **client_options: Any) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._client_options = client_options
        self._lock = threading.Lock()
        self._consumer: KafkaConsumer | None = None
        self._counts: Counter[tuple[str, str]] = Counter()
        self._new: list[StoredDeadLetter] = []

    def _read_new(self) -> None:
        if self._consumer is None:
            consumer = KafkaConsumer(
                bootstrap_servers=self._bootstrap.split(","),
                enable_auto_commit=False,
                client_id="tipline-dead-metrics",
                fetch_max_wait_ms=100,
                **self._client_options,
            )
            partitions = consumer.partitions_for_topic(self._topic) or set()
            consumer.assign([TopicPartition(self._topic, p) for p in sorted(partitions)])
            consumer.seek_to_beginning()
            self._consumer = consumer
        for _ in range(20):  # bounded: a scrape must answer
            batch = self._consumer.poll(timeout_ms=150, max_records=5000)
            if not batch:
                return
            for records in batch.values():
                for record in records:
                    try:
                        letter = DeadLetter.model_validate_json(record.value)
                    except ValueError:
                        self._counts[("unknown", "unreadable")] += 1
                        continue
                    self._counts[(letter.stage, letter.error)] += 1
                    if len(self._new) < self.KEEP_NEW:
                        self._new.append(
                            StoredDeadLetter(f"{record.partition}-{record.offset}", letter)
                        )

    def refresh(self) -> dict[tuple[str, str], int]:
        """Read what is new on the topic; the counts by (stage, error) so far."""
        with self._lock:
            try:
                self._read_new()
            except Exception as exc:  # the broker may be down: export what we know
                log.warning("could not read dead letters: %s", type(exc).__name__)
            return dict(self._counts)

    def take_new(self) -> list[StoredDeadLetter]:
        """The dead letters read since the last call (at most KEEP_NEW), then forget them."""
        with self._lock:
            new, self._new = self._new, []
        return new

    def close(self) -> None:
        with self._lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.refresh()
        family = GaugeMetricFamily(
            DEAD_LETTERS_ON_TOPIC_NAME,
            "Dead letters on the dead-letter topic, by stage and error class.",
            labels=["stage", "error"],
        )
        for (stage, error), n in sorted(counts.items()):
            family.add_metric([stage, error], n)
        yield family
