"""Where a consumer group stands on each partition: committed offset, real end, lag.

The embedded Tansu broker answers ListOffsets with the *base offset of the last record batch
plus one*, not one past the last record (measured: 4 records produced as one batch, end offset
reported as 1). Lag from that figure would read zero while records wait. So the real high-water
mark is read: seek to the reported end minus one (the start of the last batch) and take the
last offset fetched plus one. On Apache Kafka the two agree and the fetch returns one record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from prometheus_client.core import GaugeMetricFamily

from tipline.core.metrics import COMMITTED_NAME, CONSUMER_LAG_NAME, HIGH_WATER_NAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionOffsets:
    """One partition of a topic, as a consumer group sees it."""

    topic: str
    partition: int
    committed: int | None  # None: the group never committed here (it would start at 0)
    reported_end: int  # what ListOffsets says (imprecise on Tansu)
    high_water: int  # one past the last record, read from the log itself

    @property
    def lag(self) -> int:
        return max(self.high_water - (self.committed or 0), 0)


def _consumer(bootstrap: str, timeout_s: float, **client_options: Any) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        enable_auto_commit=False,
        client_id="tipline-offsets",
        request_timeout_ms=max(int(timeout_s * 1000), 1000),
        fetch_max_wait_ms=100,
        **client_options,
    )


def committed_offsets(
    bootstrap: str, group: str, timeout_s: float = 5.0, **client_options: Any
) -> dict[TopicPartition, int]:
    """The group's committed offsets (all topics it ever committed on). ``client_options``:
    kafka-python security options (tipline.core.security.kafka_python_options)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap.split(","),
        client_id="tipline-offsets",
        request_timeout_ms=max(int(timeout_s * 1000), 1000),
        **client_options,
    )
    try:
        found = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}


def high_water_marks(
    consumer: KafkaConsumer, partitions: Sequence[TopicPartition], timeout_s: float = 2.0
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """(reported end, real end) per partition: see the module docstring."""
    reported: dict[TopicPartition, int] = consumer.end_offsets(list(partitions))
    real = dict(reported)
    pending = {tp for tp in partitions if reported[tp] > 0}
    if not pending:
        return reported, real
    consumer.assign(sorted(pending))
    for tp in pending:
        consumer.seek(tp, reported[tp] - 1)
    polls = max(int(timeout_s / 0.1), 1)
    idle = 0
    while pending and polls > 0 and idle < 3:
        polls -= 1
        batch = consumer.poll(timeout_ms=100, max_records=10_000)
        idle = 0 if batch else idle + 1
        for tp, records in batch.items():
            real[tp] = max(real[tp], records[-1].offset + 1)
        # A partition whose position reached what was fetched and returned nothing more is done.
        for tp in list(pending):
            if tp not in batch and consumer.position(tp) >= real[tp]:
                pending.discard(tp)
    consumer.assign([])
    return reported, real


def group_offsets(
    bootstrap: str,
    topics: Iterable[str],
    group: str,
    timeout_s: float = 5.0,
    **client_options: Any,
) -> list[PartitionOffsets]:
    """Every partition of ``topics`` with the group's committed offset and the real end."""
    committed = committed_offsets(bootstrap, group, timeout_s, **client_options)
    consumer = _consumer(bootstrap, timeout_s, **client_options)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        reported, real = high_water_marks(consumer, partitions, timeout_s)
    finally:
        consumer.close()
    return [
        PartitionOffsets(
            topic=tp.topic,
            partition=tp.partition,
            committed=committed.get(tp),
            reported_end=reported[tp],
            high_water=real[tp],
        )
        for tp in partitions
    ]


class LagCollector:
    """Prometheus collector: per-partition committed offset, real end and lag, read from the
    broker on scrape (cached for two seconds; a scrape that cannot reach the broker exports
    nothing rather than a stale zero)."""

    def __init__(
        self, bootstrap: str, topics: Sequence[str], group: str, **client_options: Any
    ) -> None:
        self._bootstrap = bootstrap
        self._client_options = client_options
        self._topics = tuple(topics)
        self._group = group
        self._lock = threading.Lock()
        self._at = 0.0
        self._last: list[PartitionOffsets] = []

    def offsets(self) -> list[PartitionOffsets]:
        with self._lock:
            if time.monotonic() - self._at > 2.0:
                try:
                    self._last = group_offsets(
                        self._bootstrap, self._topics, self._group, 2.0, **self._client_options
                    )
                except Exception as exc:  # the scrape must answer even when the broker is down
                    log.warning("could not read offsets: %s", type(exc).__name__)
                    self._last = []
                self._at = time.monotonic()
            return self._last

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["topic", "partition"]
        lag = GaugeMetricFamily(
            CONSUMER_LAG_NAME, "Records past the group's committed offset.", labels=labels
        )
        end = GaugeMetricFamily(
            HIGH_WATER_NAME,
            "One past the partition's last record (read, not reported).",
            labels=labels,
        )
        done = GaugeMetricFamily(COMMITTED_NAME, "The group's committed offset.", labels=labels)
        for p in self.offsets():
            key = [p.topic, str(p.partition)]
            lag.add_metric(key, p.lag)
            end.add_metric(key, p.high_water)
            done.add_metric(key, p.committed or 0)
        yield from (lag, end, done)
