"""The faust backend's seek to committed offsets, on a real broker (issue #14).

faust seeks to committed offsets after a rebalance and whenever it throws a fetch away because
the flow was stopped. aiokafka's own seek leaves a partition without a committed offset (or with
0) where the fetcher had got to, so what was fetched and thrown away was never read again: the
surviving worker of a two-worker group sat at the end of the killed worker's partitions with
nothing stored. Here a plain consumer reads three partitions to their end (the fetch faust would
throw away) and the backend's seek must bring each back to what is committed, or to its start.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from processors.runtime.backends.faust import seek_to_committed
from tipline.core.settings import Settings
from tipline.core.topics import Topics

RECORDS = 5  # per partition


async def _fill(bootstrap: list[str], topic: str, partitions: range) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition in partitions:
            for i in range(RECORDS):
                await producer.send_and_wait(topic, b"%d" % i, key=b"k", partition=partition)
    finally:
        await producer.stop()


async def _read_to_end(consumer: AIOKafkaConsumer, expected: int) -> None:
    seen = 0
    deadline = time.monotonic() + 60
    while seen < expected:
        assert time.monotonic() < deadline, f"read {seen} of {expected} records in 60 s"
        batches = await consumer.getmany(timeout_ms=500)
        seen += sum(len(records) for records in batches.values())


def test_partitions_without_a_commit_go_back_to_their_beginning(settings: Settings) -> None:
    assert settings.kafka
    bootstrap = settings.kafka.split(",")
    topic = Topics.from_settings(settings).raw
    committed_at_3, committed_at_0, never = (TopicPartition(topic, p) for p in range(3))

    async def run() -> tuple[dict[Any, int | None], dict[TopicPartition, int]]:
        await _fill(bootstrap, topic, range(3))
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{settings.app_id}-seek",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            await _read_to_end(consumer, 3 * RECORDS)
            await consumer.commit({committed_at_3: 3, committed_at_0: 0})
            before = {tp: await consumer.position(tp) for tp in (committed_at_3, never)}
            assert before == {committed_at_3: RECORDS, never: RECORDS}  # read to the end
            committed = dict(await seek_to_committed(consumer))
            positions = {
                tp: await consumer.position(tp) for tp in (committed_at_3, committed_at_0, never)
            }
        finally:
            await consumer.stop()
        return committed, positions

    committed, positions = asyncio.run(run())
    assert committed[committed_at_3] == 3 and committed[committed_at_0] == 0
    assert committed[never] is None
    assert positions == {committed_at_3: 3, committed_at_0: 0, never: 0}
