"""Consumer lag from a group's committed offsets and the partitions' real high-water marks.

``lag`` is pure (offsets in, lag out) so metrics, `tipline status` and tests share one rule;
``consumer_lag`` is the thin I/O wrapper that asks the broker. The rule is the one Kafka's own
``kafka-consumer-groups --describe`` applies (``LAG = LOG-END-OFFSET - CURRENT-OFFSET``), with two
cases it leaves blank made explicit: a partition with no committed offset counts from the log
start (where ``auto_offset_reset=earliest`` would begin), and a committed offset that retention
already deleted counts from the log start too, since those records can no longer be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class PartitionLag:
    """Lag of one partition: records written but not yet committed by the group."""

    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int  # high-water mark: offset of the next record to be written
    lag: int


def lag(
    committed: Mapping[TopicPartition, int | None],
    ends: Mapping[TopicPartition, int],
    starts: Mapping[TopicPartition, int] | None = None,
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
        out.append(PartitionLag(tp[0], tp[1], offset, end, max(0, end - position)))
    return out


def total(lags: Iterable[PartitionLag]) -> int:
    return sum(item.lag for item in lags)


def consumer_lag(
    bootstrap: str, group: str, topics: Iterable[str], **client_options: Any
) -> list[PartitionLag]:
    """Ask the broker for ``group``'s committed offsets and ``topics``' end offsets.

    ``client_options`` are passed to kafka-python (security settings, timeouts).
    """
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KafkaTopicPartition
    from kafka.admin import KafkaAdminClient

    servers = bootstrap.split(",")
    admin = KafkaAdminClient(bootstrap_servers=servers, **client_options)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, **client_options)
    try:
        partitions = [
            KafkaTopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
    finally:
        consumer.close()
    committed: dict[TopicPartition, int | None] = {
        (tp.topic, tp.partition): (meta.offset if meta.offset >= 0 else None)
        for tp, meta in offsets.items()
    }
    return lag(
        committed,
        {(tp.topic, tp.partition): int(end) for tp, end in ends.items()},
        {(tp.topic, tp.partition): int(start) for tp, start in starts.items()},
    )
