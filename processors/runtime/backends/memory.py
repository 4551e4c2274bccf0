"""An in-memory broker and consumer that drive the same Runner as faust does, without I/O.

It keeps what the offsets logic needs and nothing more: partitioned topics, one committed
offset per (group, topic, partition), produce that can be made to fail, and assignment that can
move. ``MemoryConsumer.poll_once`` does what the faust backend does per batch: take records past
the committed offsets, ``runner.process`` them, produce the result, and commit only after that
produce succeeded. Any exception leaves the offsets where they were and propagates.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from processors.runtime.runner import Message, Runner, TopicPartition
from tipline.core.errors import TransientError


class ProduceFailedError(TransientError):
    """The in-memory broker refused a produce (a test made it unavailable)."""


@dataclass
class MemoryBroker:
    """Topics as lists of partitions of (key, value) records."""

    partitions: int = 3
    topics: dict[str, list[list[tuple[bytes | None, bytes | None]]]] = field(default_factory=dict)
    committed: dict[tuple[str, str, int], int] = field(default_factory=dict)
    fail_produce: bool = False

    def topic(self, name: str) -> list[list[tuple[bytes | None, bytes | None]]]:
        if name not in self.topics:
            self.topics[name] = [[] for _ in range(self.partitions)]
        return self.topics[name]

    def produce(self, topic: str, key: bytes | None, value: bytes | None) -> int:
        """Append a record to the partition its key hashes to (round-robin-free: stable)."""
        if self.fail_produce:
            raise ProduceFailedError("memory broker unavailable")
        parts = self.topic(topic)
        partition = zlib.crc32(key or b"") % len(parts)
        parts[partition].append((key, value))
        return partition

    def values(self, topic: str) -> list[bytes | None]:
        return [value for part in self.topic(topic) for _, value in part]

    def commit(self, group: str, offsets: dict[TopicPartition, int]) -> None:
        for (topic, partition), offset in offsets.items():
            self.committed[(group, topic, partition)] = offset

    def position(self, group: str, topic: str, partition: int) -> int:
        return self.committed.get((group, topic, partition), 0)

    def lag(self, group: str, topic: str) -> int:
        parts = self.topic(topic)
        return sum(len(p) - self.position(group, topic, i) for i, p in enumerate(parts))


@dataclass
class MemoryConsumer:
    """One consumer of ``topic`` in ``group``, owning ``partitions`` (all by default)."""

    broker: MemoryBroker
    runner: Runner
    topic: str
    group: str = "test"
    batch_size: int = 100
    partitions: set[int] | None = None

    def __post_init__(self) -> None:
        wanted = self.partitions
        self.partitions = set()
        self.rebalance(range(len(self.broker.topic(self.topic))) if wanted is None else wanted)

    def rebalance(self, partitions: Iterable[int]) -> None:
        """Move the assignment: revoked partitions drop their state, new ones build it."""
        new = set(partitions)
        old = self.partitions or set()
        self.runner.revoke((self.topic, p) for p in sorted(old - new))
        self.runner.assign((self.topic, p) for p in sorted(new - old))
        self.partitions = new

    def _take(self) -> tuple[list[Message], dict[TopicPartition, int]]:
        batch: list[Message] = []
        ends: dict[TopicPartition, int] = {}
        parts = self.broker.topic(self.topic)
        for partition in sorted(self.partitions or ()):
            start = self.broker.position(self.group, self.topic, partition)
            for offset in range(start, len(parts[partition])):
                if len(batch) >= self.batch_size:
                    return batch, ends
                key, value = parts[partition][offset]
                batch.append(Message(self.topic, partition, offset, key, value))
                ends[(self.topic, partition)] = offset + 1
        return batch, ends

    async def poll_once(self) -> int:
        """Process one batch; return how many records it held (0: caught up)."""
        batch, ends = self._take()
        if not batch:
            return 0
        produce = await self.runner.process(batch)
        for record in produce:  # "acks=all": each append is durable once it returns
            self.broker.produce(record.topic, record.key, record.value)
        self.broker.commit(self.group, ends)
        return len(batch)

    async def drain(self, max_batches: int = 10_000) -> int:
        """Poll until caught up; return the number of records processed."""
        total = 0
        for _ in range(max_batches):
            n = await self.poll_once()
            if n == 0:
                return total
            total += n
        raise AssertionError("memory consumer did not catch up")
