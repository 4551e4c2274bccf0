"""The faust backend: the only module that imports faust. It drives Runners over Kafka.

Per batch (``take_events``): hand the records to ``Runner.process``, send what it returns
with acks=all (``BatchSender``), and let faust mark the offsets committable only once every
acknowledgement is in and every earlier batch was released (``InOrder``); meanwhile the agent
takes the next batch. On any exception the batch (and every later one) is held (never
committed), the exception is logged and the app is crashed, so the supervisor restarts the
worker and the batches are replayed.

Every agent runs with concurrency 1: faust bug #606 commits offsets past unfinished events
when concurrency > 1.

faust hard-codes aiokafka's ``fetch_max_wait_ms`` at 1,500 ms, and the embedded broker (Tansu)
waits for part of it even when records are there, so each consuming hop cost 0.4–0.8 s. The
consumer thread below sets it from ``Settings.fetch_max_wait_ms`` instead.

Seeking to committed offsets also rewinds the partitions that have none. faust seeks every
partition to its committed offset after a rebalance, and also whenever a fetch returns while
the flow is stopped, because it throws such records away (``Consumer.getmany``: "Seek back to
committed offsets"). aiokafka's ``seek_to_committed`` leaves a partition alone when its
committed offset is missing (or 0), so records fetched there and thrown away were never read
again: when a worker was killed before its first commit, the survivor took its partitions,
dropped the first fetch during the rebalance, and sat at their end with nothing committed and
nothing stored (issue #14, Apache Kafka, where the fetch often lands inside that window).
Such partitions now go back to their beginning (``consumer_auto_offset_reset="earliest"``);
the replay is absorbed by the idempotent sink.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any

import faust
from aiokafka.errors import IllegalStateError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, EventT, StreamT
from mode.services import WaitResults

from processors.runtime.runner import Message, Produce, Runner

log = logging.getLogger(__name__)

Event = EventT[bytes]


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads this when the consumer starts and builds its fetcher; faust offers no
        # setting for it (it passes a literal 1500).
        consumer._fetch_max_wait_ms = getattr(self.app, "fetch_max_wait_ms", 1500)
        return consumer

    async def seek_to_committed(self) -> Mapping[TP, int]:
        return await self.call_thread(self._seek_to_committed)  # type: ignore[no-any-return]

    async def _seek_to_committed(self) -> Mapping[Any, int | None]:
        return await seek_to_committed(self._ensure_consumer())


async def seek_to_committed(consumer: Any) -> Mapping[Any, int | None]:
    """Seek every assigned partition of an aiokafka ``consumer`` to its committed offset, and
    to its beginning when it has none; returns the committed offsets (None: none).

    aiokafka's own ``seek_to_committed`` seeks only offsets > 0 and leaves the others where the
    fetcher had got to (see the module docstring for what that cost).
    """
    committed: Mapping[Any, int | None] = await consumer.seek_to_committed()
    for tp, offset in committed.items():
        if offset == 0:
            consumer.seek(tp, 0)
    never = [tp for tp, offset in committed.items() if offset is None]
    if never:
        for tp in never:
            position = _position(consumer, tp)
            if position:
                log.info(
                    "%s[%d]: no committed offset, fetched up to %d: back to its beginning",
                    tp.topic,
                    tp.partition,
                    position,
                )
        try:
            await consumer.seek_to_beginning(*never)
        except IllegalStateError:  # assignment changed meanwhile: the next rebalance seeks again
            log.info("seek to the beginning skipped: the assignment changed meanwhile")
    return committed


def _position(consumer: Any, tp: Any) -> int | None:
    """The fetch position aiokafka holds for ``tp`` (None: not set), for the log line only;
    ``consumer.position()`` would wait for one instead."""
    try:
        state = consumer._subscription.subscription.assignment.state_value(tp)
        return state._position if state is not None else None
    except AttributeError:
        return None


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        return await wait_first_eager(self, self.suspend_flow, super().wait_first, coros, timeout)


async def wait_first_eager(
    service: Any,
    suspended: Any,
    wait_first: Callable[..., Awaitable[Any]],
    coros: Sequence[Any],
    timeout: Any = None,
) -> Any:
    """``service.wait_first(*coros)`` (``wait_first``, mode's ``Service.wait_first``), without
    its four tasks when the first coroutine finishes without waiting.

    faust's fetcher hands every record to the streams with
    ``wait_first(callback(message), suspend_flow.wait())``: four tasks (with ``stopped`` and
    ``crashed``), an ``asyncio.wait`` and three cancellations per record per hop, ≈ 32 µs each
    time, though the callback nearly always just puts the event on a queue with room. Here the
    callback runs its first step at once, as its task would have; done, the other awaitables
    are closed unstarted. Otherwise it is finished by a task that resumes it, in the same wait
    as before, so a suspended flow or a stop still interrupts it; nothing runs early when the
    flow (``suspended``) is already suspended or the service stopped or crashed.
    """
    first = coros[0] if coros else None
    if (
        timeout is None
        and asyncio.iscoroutine(first)
        and not suspended.is_set()
        and not service._stopped.is_set()
        and not service._crashed.is_set()
    ):
        try:
            yielded = first.send(None)
        except StopIteration as done:
            _close(coros[1:])
            return WaitResults([first], [done.value], False)
        except BaseException:
            _close(coros[1:])
            raise
        coros = (_resume(first, yielded), *coros[1:])
    return await wait_first(*coros, timeout=timeout)


def _close(awaitables: Sequence[Any]) -> None:
    for other in awaitables:
        if asyncio.iscoroutine(other):
            other.close()  # never started: no "was never awaited" warning


async def _resume(coro: Any, yielded: Any) -> Any:
    """Run ``coro`` to its end from where it suspended, waiting on ``yielded`` (what it awaits,
    a future or None for a bare yield) as a Task's step would, cancellation included."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                yielded._asyncio_future_blocking = False
                await asyncio.wait((yielded,))
        except BaseException as exc:  # cancelled while waiting: the coroutine sees it
            if yielded is not None:
                yielded.cancel()
            try:
                yielded = coro.throw(exc)
            except StopIteration as done:
                return done.value
            continue
        try:
            yielded = coro.send(None)
        except StopIteration as done:
            return done.value


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class StreamApp(faust.App):
    """A faust App whose consumer uses our fetch wait."""

    fetch_max_wait_ms: int = 1500

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)

    def on_init_dependencies(self) -> Iterable[Any]:
        services = super().on_init_dependencies()
        # faust's Monitor sensor times every message and event in Python (four calls per record
        # per hop) for its web /stats page, which is off; our metrics are the runner's. The
        # Monitor itself stays: the consumer calls it directly for end and commit offsets.
        self.sensors.remove(self.monitor)
        return services


def create_app(
    app_id: str,
    brokers: Sequence[str],
    *,
    fetch_max_wait_ms: int,
    **conf: Any,
) -> StreamApp:
    app = StreamApp(
        app_id,
        broker=[f"kafka://{host}" for host in brokers],
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_allow_declare=False,  # topics are created explicitly with our partition count
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        **conf,
    )
    app.fetch_max_wait_ms = fetch_max_wait_ms
    return app


def raw_topic(app: faust.App, name: str) -> faust.TopicT:
    return app.topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")


def hold(events: Sequence[Event]) -> None:
    """Keep a batch's offsets uncommitted: a failed one for good (it is replayed after a
    restart), a sent one until ``release`` once its output is durable.

    faust's ``take_events`` acks a batch in a ``finally`` even when the body raised; an extra
    reference makes that ack non-final, so the offset is never marked safe to commit.
    """
    for event in events:
        event.message.incref()


def release(events: Sequence[Event]) -> None:
    """Drop the reference ``hold`` added: the batch's offsets become safe to commit."""
    for event in events:
        event.ack()


def _messages(events: Sequence[Event]) -> list[Message]:
    return [
        Message(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.value)
        for e in events
    ]


class BatchSender:
    """Sends a batch's records with acks=all, one aiokafka batch per partition instead of one
    ``send`` per record; returns one future per partition batch.

    Per record, aiokafka's ``send`` looked up metadata, hashed the key in pure Python (murmur2:
    10-30 µs a key), awaited the accumulator and made a future. The partition is still the
    producer's own partitioner's choice (the keys' partitions place per-object state), cached
    per key: keys repeat (objects), and a cache miss costs what ``send`` cost.
    """

    def __init__(self, producer: Any, cache_size: int = 1 << 16) -> None:
        self._producer = producer  # an AIOKafkaProducer

        @lru_cache(maxsize=cache_size)
        def partition(key: bytes, partitions: tuple[int, ...]) -> int:
            every = list(partitions)
            return int(producer._partitioner(key, every, every))

        self._partition = partition

    async def send(self, produce: Sequence[Produce]) -> list[asyncio.Future[Any]]:
        producer = self._producer
        by_tp: dict[tuple[str, int], list[Produce]] = {}
        partitions: dict[str, tuple[int, ...]] = {}
        for p in produce:
            every = partitions.get(p.topic)
            if every is None:
                # aiokafka's own order (``list`` of the metadata's set), as its send uses.
                every = partitions[p.topic] = tuple(
                    await producer.client._wait_on_metadata(p.topic)
                )
            by_tp.setdefault((p.topic, self._partition(p.key, every)), []).append(p)
        acks = []
        for (topic, partition), records in by_tp.items():
            batch = producer.create_batch()
            for record in records:
                if batch.append(key=record.key, value=record.value, timestamp=None) is None:
                    # Full: send it and start the next (a record alone always fits).
                    acks.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if batch.append(key=record.key, value=record.value, timestamp=None) is None:
                        raise ValueError(f"a record for {topic} exceeds the producer batch")
            acks.append(await producer.send_batch(batch, topic, partition=partition))
        return acks


class InOrder:
    """Marks batches safe to commit in the order they were taken, each once what it produced
    is durable, while the agent already works on the next (at most ``limit`` in flight).

    Waiting for the acknowledgements of each batch before taking the next cost a produce round
    trip per batch per hop (≈ 50 ms on the embedded broker: most of a hop's time in a burst).
    A batch is released (its offsets marked committable) only after its own acknowledgements
    and the release of every batch before it: when one fails, it and every later batch stay
    held (uncommitted, replayed after the restart), as a failed batch alone was before.
    faust's ``_new_offset`` would commit past a held batch when a later one is acked first
    (it checks the gap at the head only against a non-zero committed offset).
    """

    def __init__(self, name: str, crash: Callable[[BaseException], Awaitable[None]], limit: int):
        self.name = name
        self._crash = crash
        self._limit = limit
        self._pending: collections.deque[asyncio.Task[bool]] = collections.deque()

    async def add(self, acks: Sequence[Awaitable[Any]], release: Callable[[], None]) -> None:
        """Call ``release()`` once ``acks`` and every earlier batch are done; on a failure the
        batch is never released (it stays uncommitted) and the app crashes."""
        while self._pending and self._pending[0].done():
            self._pending.popleft()
        if len(self._pending) >= self._limit:
            await asyncio.wait((self._pending[0],))
            self._pending.popleft()
        before = self._pending[-1] if self._pending else None
        self._pending.append(asyncio.ensure_future(self._confirm(before, acks, release)))

    async def drain(self, timeout: float | None = None) -> None:
        """Until every batch added so far is released or held (or ``timeout`` passed)."""
        if self._pending:
            await asyncio.wait(tuple(self._pending), timeout=timeout)
        while self._pending and self._pending[0].done():
            self._pending.popleft()

    async def _confirm(
        self,
        before: asyncio.Task[bool] | None,
        acks: Sequence[Awaitable[Any]],
        release: Callable[[], None],
    ) -> bool:
        try:
            earlier_ok = True if before is None else await asyncio.shield(before)
            await asyncio.gather(*acks)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                log.critical(
                    "%s: produce failed, batch not committed; stopping the worker", self.name
                )
                await self._crash(exc)
            return False
        if not earlier_ok:  # an earlier batch failed: this one is replayed with it
            return False
        release()
        return True


REVOKE_DRAIN_S = 10.0  # longest a rebalance waits for in-flight acknowledgements


def add_runner(
    app: faust.App,
    runner: Runner,
    source: str,
    outputs: Iterable[str],
    *,
    size: int,
    within: float,
    in_flight: int = 4,
) -> None:
    """Run ``runner`` as the agent consuming ``source``; ``outputs`` are every topic it may
    produce to (its output topic and the dead letters). Up to ``in_flight`` batches wait for
    their acknowledgements while the agent takes the next (``InOrder``)."""
    name = runner.stage
    allowed = frozenset(outputs)
    confirm = InOrder(name, app.crash, in_flight)
    senders: dict[int, BatchSender] = {}

    async def sender() -> BatchSender:
        # Straight to aiokafka's (acks=all) producer: faust's Topic.send built a FutureMessage,
        # a PendingMessage and two sensor calls per record for the same bytes on the wire.
        producer = (await app.maybe_start_producer())._ensure_producer()
        found = senders.get(id(producer))
        if found is None:
            senders.clear()
            found = senders[id(producer)] = BatchSender(producer)
        return found

    async def agent(stream: StreamT[bytes]) -> AsyncIterator[None]:
        async for events in stream.take_events(size, within=within):  # type: ignore[attr-defined]
            try:
                produce = await runner.process(_messages(events))
                for p in produce:
                    if p.topic not in allowed:
                        raise ValueError(f"{name}: {p.topic} is not one of its output topics")
                acks = await (await sender()).send(produce)
                # The extra reference keeps take_events' ack (when we yield) from being final:
                # the offsets become committable when ``release`` drops it, once durable.
                hold(events)
                await confirm.add(acks, partial(release, events))
            except asyncio.CancelledError:  # a rebalance or a stop: replay the batch later
                hold(events)
                raise
            except BaseException as exc:
                hold(events)
                log.critical("%s: batch failed, nothing committed; stopping the worker", name)
                await app.crash(exc)
                raise
            yield None

    agent.__name__ = agent.__qualname__ = name  # faust names the agent (and its logs) by this
    app.agent(raw_topic(app, source), name=name, concurrency=1)(agent)

    # faust sends these as receiver(app, partitions, signal=...).
    async def on_assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned: set[TP] = args[0]
        runner.assign((tp.topic, tp.partition) for tp in assigned if tp.topic == source)

    async def on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        revoked: set[TP] = args[0]
        # Batches still waiting for acknowledgements are released now, so the commit faust
        # makes before giving the partitions up includes them (a hung produce: replayed).
        await confirm.drain(timeout=REVOKE_DRAIN_S)
        runner.revoke((tp.topic, tp.partition) for tp in revoked if tp.topic == source)

    app.on_partitions_assigned.connect(on_assigned, weak=False)
    app.on_partitions_revoked.connect(on_revoked, weak=False)


def add_timer(app: faust.App, interval: float, fn: Any) -> None:
    app.timer(interval=interval)(fn)


# How long the worker's shutdown may take once it begins (the supervisor kills a worker that
# has not stopped 15 s after it asked).
SHUTDOWN_GRACE_S = 10.0
EXIT_CRASHED = 70  # EX_SOFTWARE


def arm_exit_watchdog(grace_s: float, code: int) -> threading.Timer:
    """End the process with ``code`` after ``grace_s`` unless it ended by itself first."""
    timer = threading.Timer(grace_s, os._exit, args=(code,))
    timer.daemon = True
    timer.start()
    return timer


def assignment_if_built(app: faust.App) -> set[TP] | None:
    """The consumer's assignment, or None while the worker has not built its consumer yet.

    For readiness checks on another thread (the ops server): ``app.consumer`` builds faust's
    consumer on first use, bound to the event loop of the thread that asks. When /readyz asked
    first, the consumer thread was bound to the ops server's loop and failed to start ("Future
    attached to a different loop"), and the worker never became ready.
    """
    consumer = app._consumer
    return None if consumer is None else set(consumer.assignment())


def guard_shutdown(worker: faust.Worker) -> None:
    """Called when ``worker``'s shutdown begins (``on_worker_shutdown``): the process ends
    within ``SHUTDOWN_GRACE_S`` whatever the shutdown waits for, non-zero after a crash.

    mode's consumer thread can fail to start (its start future "attached to a different loop",
    a race in mode's ServiceThread, faust-streaming/mode#38, seen in CI at start-up); stopping
    that thread then waits for ever, and the process stayed alive, healthy and never ready, so
    the supervisor never restarted it.
    """
    started = worker._starting_fut
    crashed = (
        started is not None
        and started.done()
        and not started.cancelled()
        and started.exception() is not None
    ) or worker._crashed.is_set()
    if crashed:
        log.error("worker crashed; it exits within %.0f s", SHUTDOWN_GRACE_S)
    arm_exit_watchdog(SHUTDOWN_GRACE_S, EXIT_CRASHED if crashed else 0)
