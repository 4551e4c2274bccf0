"""The faust backend's produce path without a broker: batches are released (made committable) in
the order they were taken, never after a failure, and records go to the partition aiokafka's
partitioner picks, one aiokafka batch per partition (processors/runtime/backends/faust.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from processors.runtime.backends.faust import BatchSender, InOrder
from processors.runtime.runner import Produce


class _Crashes:
    def __init__(self) -> None:
        self.seen: list[BaseException] = []

    async def __call__(self, exc: BaseException) -> None:
        self.seen.append(exc)


def _futures(loop: asyncio.AbstractEventLoop, n: int) -> list[asyncio.Future[None]]:
    return [loop.create_future() for _ in range(n)]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_batches_are_released_in_the_order_taken_whatever_order_their_acks_come(
    order: tuple[int, ...],
) -> None:
    async def run() -> list[int]:
        loop = asyncio.get_running_loop()
        acks = _futures(loop, 3)
        released: list[int] = []
        confirm = InOrder("clean", _Crashes(), limit=4)
        for i in range(3):
            await confirm.add([acks[i]], lambda i=i: released.append(i))  # type: ignore[misc]
        for i in order:
            await _settle()
            assert released == sorted(released)
            acks[i].set_result(None)
        await confirm.drain()
        return released

    assert asyncio.run(run()) == [0, 1, 2]


def test_a_failed_batch_and_every_later_one_stay_unreleased_and_the_worker_crashes() -> None:
    async def run() -> tuple[list[int], list[BaseException]]:
        loop = asyncio.get_running_loop()
        acks = _futures(loop, 3)
        released: list[int] = []
        crashes = _Crashes()
        confirm = InOrder("triage", crashes, limit=4)
        for i in range(3):
            await confirm.add([acks[i]], lambda i=i: released.append(i))  # type: ignore[misc]
        acks[2].set_result(None)
        acks[0].set_result(None)
        acks[1].set_exception(RuntimeError("broker gone"))
        await confirm.drain()
        return released, crashes.seen

    released, crashes = asyncio.run(run())
    assert released == [0]
    assert [str(c) for c in crashes] == ["broker gone"]


def test_a_batch_without_records_to_produce_still_waits_for_the_earlier_ones() -> None:
    async def run() -> list[int]:
        loop = asyncio.get_running_loop()
        first = loop.create_future()
        released: list[int] = []
        confirm = InOrder("sink", _Crashes(), limit=4)
        await confirm.add([first], lambda: released.append(0))
        await confirm.add([], lambda: released.append(1))
        await _settle()
        assert released == []
        first.set_result(None)
        await confirm.drain()
        return released

    assert asyncio.run(run()) == [0, 1]


def test_taking_a_batch_waits_while_the_limit_is_in_flight() -> None:
    async def run() -> bool:
        loop = asyncio.get_running_loop()
        acks = _futures(loop, 3)
        confirm = InOrder("clean", _Crashes(), limit=2)
        await confirm.add([acks[0]], lambda: None)
        await confirm.add([acks[1]], lambda: None)
        third = asyncio.ensure_future(confirm.add([acks[2]], lambda: None))
        await _settle()
        blocked = not third.done()
        acks[0].set_result(None)
        await asyncio.wait_for(third, 1)
        for ack in acks[1:]:
            ack.set_result(None)
        await confirm.drain()
        return blocked

    assert asyncio.run(run())


class _Batch:
    def __init__(self, room: int) -> None:
        self.room = room
        self.records: list[tuple[bytes, bytes]] = []

    def append(self, *, key: bytes, value: bytes, timestamp: Any) -> object | None:
        if len(self.records) >= self.room:
            return None
        self.records.append((key, value))
        return object()


class _Client:
    async def _wait_on_metadata(self, topic: str) -> set[int]:
        return set(range(6))


class _Producer:
    """What BatchSender uses of an AIOKafkaProducer."""

    def __init__(self, room: int) -> None:
        self.client = _Client()
        self._partitioner = DefaultPartitioner()
        self.room = room
        self.sent: list[tuple[str, int, list[tuple[bytes, bytes]]]] = []

    def create_batch(self) -> _Batch:
        return _Batch(self.room)

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> asyncio.Future[Any]:
        self.sent.append((topic, partition, batch.records))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


@pytest.mark.parametrize("room", [1, 3, 1000])
def test_records_go_to_the_partitioners_choice_in_order_one_future_per_batch(room: int) -> None:
    records = [
        Produce("t.clean" if i % 4 else "t.dead", f"obj{i % 7}".encode(), f"v{i}".encode())
        for i in range(40)
    ]
    producer = _Producer(room)

    async def run() -> int:
        acks = await BatchSender(producer).send(records)
        await asyncio.gather(*acks)
        return len(acks)

    n_acks = asyncio.run(run())
    assert n_acks == len(producer.sent)
    partitioner = DefaultPartitioner()
    expected: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}
    for r in records:
        p = partitioner(r.key, list(range(6)), list(range(6)))
        expected.setdefault((r.topic, p), []).append((r.key, r.value))
    got: dict[tuple[str, int], list[tuple[bytes, bytes]]] = {}
    for topic, partition, batch in producer.sent:
        assert 0 < len(batch) <= room
        got.setdefault((topic, partition), []).extend(batch)
    assert got == expected
