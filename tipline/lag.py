"""Consumer lag: a group's committed offsets against the partitions' real high-water marks.

One module for the rule, the reading and the metric, so `/metrics`, `tipline status`, the
drain at stop and the spill all agree:

- ``lag`` is pure (offsets in, lag out). The rule is the one Kafka's own
  ``kafka-consumer-groups --describe`` applies (``LAG = LOG-END-OFFSET - CURRENT-OFFSET``), with
  two cases it leaves blank made explicit: a partition with no committed offset counts from the
  log start (where ``auto_offset_reset=earliest`` would begin), and a committed offset that
  retention already deleted counts from the log start too, since those records can no longer
  be read. Lag is never negative.
- ``high_water_marks`` reads the real end of each partition. The embedded Tansu broker answers
  ListOffsets with the *base offset of the last record batch plus one*, not one past the last
  record (measured: 4 records produced as one batch, end offset reported as 1); lag from that
  figure would read zero while records wait. So the end is read from the log: seek to the
  reported end minus one (the start of the last batch) and take the last offset fetched plus
  one. On Apache Kafka the two agree and the fetch returns one record.
- ``consumer_lag`` asks the broker (kafka-python; ``client_options`` carry the security
  settings) and applies the rule; ``LagCollector`` exports it on scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from prometheus_client.core import GaugeMetricFamily

from tipline.core.metrics import COMMITTED_NAME, CONSUMER_LAG_NAME, HIGH_WATER_NAME

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class PartitionLag:
    """Lag of one partition: records written but not yet committed by the group."""

    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int  # high-water mark: offset of the next record to be written (read, not reported)
    lag: int
    reported_end: int | None = None  # what ListOffsets said, when it was asked (Tansu: imprecise)


def lag(
    committed: Mapping[TopicPartition, int | None],
    ends: Mapping[TopicPartition, int],
    starts: Mapping[TopicPartition, int] | None = None,
    reported: Mapping[TopicPartition, int] | None = None,
) -> list[PartitionLag]:
    """Per-partition lag for every partition in ``ends``, sorted by topic and partition.

    ``committed`` may lack partitions (never committed); ``starts`` (log start offsets) defaults
    to 0 for each partition. Lag is never negative: a high-water mark fetched a moment before a
    commit can be behind it.
    """
    out = []
    for tp in sorted(ends):
        end = ends[tp]
        start = (starts or {}).get(tp, 0)
        offset = committed.get(tp)
        position = start if offset is None else max(offset, start)
        out.append(
            PartitionLag(
                tp[0],
                tp[1],
                offset,
                end,
                max(0, end - position),
                None if reported is None else reported.get(tp),
            )
        )
    return out


def total(lags: Iterable[PartitionLag]) -> int:
    return sum(item.lag for item in lags)


def _timeouts(timeout_s: float) -> dict[str, Any]:
    return {"request_timeout_ms": max(int(timeout_s * 1000), 1000)}


def committed_offsets(
    bootstrap: str, group: str, timeout_s: float = 5.0, **client_options: Any
) -> dict[KafkaTopicPartition, int]:
    """The group's committed offsets (all topics it ever committed on; none: left out)."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap.split(","),
        **{"client_id": "tipline-lag", **_timeouts(timeout_s), **client_options},
    )
    try:
        found = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}


def reader(bootstrap: str, timeout_s: float = 5.0, **client_options: Any) -> KafkaConsumer:
    """A consumer that joins no group and commits nothing, for reading ends and records."""
    return KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        **{
            "enable_auto_commit": False,
            "client_id": "tipline-lag",
            "fetch_max_wait_ms": 100,
            # Only offsets are read here: kafka-python's CRC-32C is pure Python and was
            # two thirds of the lag reading, ≈ 10 % of a passthrough worker's CPU samples.
            "check_crcs": False,
            **_timeouts(timeout_s),
            **client_options,
        },
    )


def high_water_marks(
    consumer: KafkaConsumer, partitions: Sequence[KafkaTopicPartition], timeout_s: float = 2.0
) -> tuple[dict[KafkaTopicPartition, int], dict[KafkaTopicPartition, int]]:
    """(reported end, real end) per partition: see the module docstring."""
    reported: dict[KafkaTopicPartition, int] = consumer.end_offsets(list(partitions))
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


def _beginning_offsets(
    consumer: KafkaConsumer, partitions: Sequence[KafkaTopicPartition], attempts: int = 5
) -> dict[KafkaTopicPartition, int]:
    """Each partition's first offset. kafka-python 3.0.12 raises KeyError when the broker's
    answer leaves a partition out (seen on Apache Kafka right after a topic is created, while
    leaders are still being elected): ask again briefly before giving up."""
    for attempt in range(1, attempts):
        try:
            starts: dict[KafkaTopicPartition, int] = consumer.beginning_offsets(list(partitions))
            return starts
        except KeyError:
            time.sleep(0.2 * attempt)
    last: dict[KafkaTopicPartition, int] = consumer.beginning_offsets(list(partitions))
    return last


def consumer_lag(
    bootstrap: str,
    group: str,
    topics: Iterable[str],
    timeout_s: float = 5.0,
    **client_options: Any,
) -> list[PartitionLag]:
    """``group``'s lag on every partition of ``topics``, from the real high-water marks.

    ``client_options`` are passed to kafka-python (security settings, timeouts).
    """
    committed = committed_offsets(bootstrap, group, timeout_s, **client_options)
    consumer = reader(bootstrap, timeout_s, **client_options)
    try:
        partitions = [
            KafkaTopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        reported, ends = high_water_marks(consumer, partitions, timeout_s)
        starts = _beginning_offsets(consumer, partitions)
    finally:
        consumer.close()

    def key(tp: KafkaTopicPartition) -> TopicPartition:
        return (tp.topic, tp.partition)

    return lag(
        {key(tp): offset for tp, offset in committed.items()},
        {key(tp): int(end) for tp, end in ends.items()},
        {key(tp): int(start) for tp, start in starts.items()},
        {key(tp): int(end) for tp, end in reported.items()},
    )


class LagCollector:
    """Prometheus collector: per-partition committed offset, real end and lag, read from the
    broker on scrape (cached for two seconds; a scrape that cannot reach the broker exports
    nothing rather than a stale zero)."""

    def __init__(
        self, bootstrap: str, topics: Sequence[str], group: str, **client_options: Any
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._group = group
        self._options = client_options
        self._lock = threading.Lock()
        self._at = 0.0
        self._last: list[PartitionLag] = []

    def lags(self) -> list[PartitionLag]:
        with self._lock:
            if time.monotonic() - self._at > 2.0:
                try:
                    self._last = consumer_lag(
                        self._bootstrap, self._group, self._topics, 2.0, **self._options
                    )
                except Exception as exc:  # the scrape must answer even when the broker is down
                    log.warning("could not read offsets: %s", type(exc).__name__)
                    self._last = []
                self._at = time.monotonic()
            return self._last

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["topic", "partition"]
        lag_family = GaugeMetricFamily(
            CONSUMER_LAG_NAME, "Records past the group's committed offset.", labels=labels
        )
        end = GaugeMetricFamily(
            HIGH_WATER_NAME,
            "One past the partition's last record (read, not reported).",
            labels=labels,
        )
        done = GaugeMetricFamily(COMMITTED_NAME, "The group's committed offset.", labels=labels)
        for p in self.lags():
            key = [p.topic, str(p.partition)]
            lag_family.add_metric(key, p.lag)
            end.add_metric(key, p.end)
            done.add_metric(key, p.committed or 0)
        yield from (lag_family, end, done)
