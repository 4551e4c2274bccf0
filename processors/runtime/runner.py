"""One runner for every flow: decode a batch, run each record through the steps, encode.

``Runner.process(batch)`` returns what must become durable before the batch's offsets may be
committed: the records for the output topic and the dead letters (or, for a flow that ends in a
``Sink``, the batch is written to the sink first and only the dead letters are returned). It
raises on anything the dead-letter policy does not take — a bug in a step, an exhausted
``DlqLimit`` — and the backend then leaves the whole batch uncommitted and stops the worker.

A flow may lead with ``BatchStep``s (processors/runtime/steps.py): after the batch is decoded,
each runs once over the decoded records of each partition (one database query for the batch's
new senders, say), before any record enters the per-record steps.

State per partition (arroyo's ``create_with_partitions``): the flow of a partition is built by
``flow_for(partition)`` when the partition is assigned (or first seen) and dropped when it is
revoked, so a partition that leaves and comes back restores its state instead of keeping it.

Instrumentation lives here, the one place every record passes: each step's latency
(``tipline_stage_seconds{stage=<step>}``), tips in, out and dead-lettered per stage and channel
(``tipline_stage_tips``), and dead letters by stage and error class. Steps are resolved to their
name and histogram once per partition, and tip counts are summed per batch before they reach
Prometheus, so the cost per tip is a few clock reads and one observation per step
(benchmarks/bench_runtime_metrics.py measures it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from pydantic import BaseModel

from processors.codec import decode
from processors.deadletter import dead_letter
from processors.runtime.dlq import DlqLimit, DlqPolicy, dead_letterable
from processors.runtime.sink import Sink, SinkResult
from processors.runtime.steps import (
    AsyncStep,
    BatchStep,
    Flow,
    StepTimes,
    TimedStep,
    run_timed,
    timed,
)
from schemas.dead import Stage
from tipline.core.errors import BackpressureError, InvalidInputError, TransientError
from tipline.core.metrics import (
    DEAD_LETTERS_BY_REASON,
    STAGE_SECONDS,
    STAGE_TIPS,
    Counters,
    Metric,
)

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
Observer = Callable[[str], Callable[[float], None]]
UNKNOWN_CHANNEL = "unknown"  # a record that could not be decoded has no channel we can trust


def stage_histogram(step: str) -> Callable[[float], None]:
    """Where a step's latency goes by default: ``tipline_stage_seconds{stage=<step>}``."""
    return STAGE_SECONDS.labels(step).observe


class Message(NamedTuple):
    """A consumed record, as every backend hands it to the runner (a NamedTuple: one is built
    per record per hop, at half a frozen dataclass's cost)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class _Undecodable:
    """A record whose value did not decode, and the error it raised."""

    error: Exception


class Produce(NamedTuple):
    """A record the backend must make durable (acks=all) before committing the batch."""

    topic: str
    key: bytes
    value: bytes


class RowRefusedError(InvalidInputError):
    """The sink refused an item as invalid (a data error, not an outage)."""


@dataclass(frozen=True)
class Backoff:
    """Retry delays for TransientError in async steps and the sink."""

    first: float = 0.2
    most: float = 30.0


def encode(model: BaseModel) -> bytes:
    # The serializer's to_json gives bytes directly: no str round-trip (measured in the bench).
    return model.__pydantic_serializer__.to_json(model)


@dataclass
class Runner:
    """Runs one flow for one input topic; see the module docstring for the contract."""

    stage: Stage
    model: type[BaseModel]
    flow_for: Callable[[int], Flow]
    dead_topic: str
    out_topic: str | None = None
    sink: Sink | None = None
    counters: Counters = field(default_factory=Counters)
    done: Metric | None = None
    dlq_limit: DlqLimit = field(default_factory=DlqLimit)
    backoff: Backoff = field(default_factory=Backoff)
    times: StepTimes | None = None
    observer: Observer = stage_histogram
    # Per partition: its leading batch steps, and the steps each record runs through.
    _flows: dict[TopicPartition, tuple[tuple[TimedStep, ...], tuple[TimedStep, ...]]] = field(
        default_factory=dict
    )
    _policy: DlqPolicy = field(init=False)
    _tips: dict[tuple[str, str], Any] = field(default_factory=dict)  # (channel, outcome) child

    def __post_init__(self) -> None:
        if (self.out_topic is None) == (self.sink is None):
            raise ValueError("a runner ends in exactly one of out_topic or sink")
        self._policy = DlqPolicy(self.dlq_limit)

    # -- partitions -------------------------------------------------------------------------

    def assign(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            if tp not in self._flows:
                steps = timed(self.flow_for(tp[1]), self.observer)
                lead = 0
                while lead < len(steps) and isinstance(steps[lead].step, BatchStep):
                    lead += 1
                self._flows[tp] = (steps[:lead], steps[lead:])
                log.info("%s: assigned %s[%d]", self.stage, tp[0], tp[1])

    def revoke(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            if self._flows.pop(tp, None) is not None:
                log.info("%s: revoked %s[%d]; its state is dropped", self.stage, tp[0], tp[1])

    def assigned(self) -> set[TopicPartition]:
        return set(self._flows)

    def _flow(self, msg: Message) -> tuple[tuple[TimedStep, ...], tuple[TimedStep, ...]]:
        tp = (msg.topic, msg.partition)
        flow = self._flows.get(tp)
        if flow is None:  # a backend may deliver before it signals the assignment
            self.assign([tp])
            flow = self._flows[tp]
        return flow

    # -- one batch --------------------------------------------------------------------------

    async def process(self, batch: Sequence[Message]) -> list[Produce]:
        produce: list[Produce] = []
        stored: list[tuple[Message, Any]] = []
        done = 0
        tally: Counter[tuple[str, str]] = Counter()
        values = self._decode(batch)
        await self._prepare(batch, values)
        for msg, value in zip(batch, values, strict=True):
            tip_id: str | None = None
            channel = UNKNOWN_CHANNEL
            decoded = False
            try:
                if isinstance(value, _Undecodable):
                    raise value.error
                item = value
                tip_id = getattr(item, "tip_id", None)
                channel = getattr(item, "channel", UNKNOWN_CHANNEL)
                decoded = True
                tally[(channel, "in")] += 1
                out = await run_timed(self._flow(msg)[1], item, self.times, self._run_async)
            except Exception as exc:
                if not dead_letterable(exc):
                    log.critical(
                        "%s: %s at %s[%d]@%d (tip %s) is not invalid input: stopping, "
                        "batch of %d left uncommitted",
                        self.stage,
                        type(exc).__name__,
                        msg.topic,
                        msg.partition,
                        msg.offset,
                        tip_id,
                        len(batch),
                    )
                    raise
                if not decoded:
                    tally[(channel, "in")] += 1
                tally[(channel, "dead")] += 1
                produce.append(self._dead_letter(msg, exc, tip_id))
                self._policy.invalid_record()  # raises when a flood must stop the worker
                continue
            self._policy.ok()
            done += 1
            if self.sink is not None:
                stored.append((msg, out))
            else:
                assert self.out_topic is not None
                tally[(channel, "out")] += 1
                produce.append(Produce(self.out_topic, out.partition_key().encode(), encode(out)))
        if self.done is not None:
            self.counters.add(self.done, done)
        if stored:
            produce.extend(await self._store(stored, tally))
        self._count(tally)
        return produce

    def _decode(self, batch: Sequence[Message]) -> list[Any]:
        """Each record's model, or an ``_Undecodable`` holding why not (raised in its turn, so
        the dead-letter policy sees the records in their order)."""
        values: list[Any] = []
        for msg in batch:
            try:
                values.append(decode(self.model, msg.value))
            except Exception as exc:
                values.append(_Undecodable(exc))
        return values

    async def _prepare(self, batch: Sequence[Message], values: list[Any]) -> None:
        """Run each partition's leading batch steps once over its decoded records."""
        by_partition: dict[TopicPartition, list[Any]] = {}
        for msg, value in zip(batch, values, strict=True):
            if not isinstance(value, _Undecodable) and self._flow(msg)[0]:
                by_partition.setdefault((msg.topic, msg.partition), []).append(value)
        clock = time.perf_counter_ns
        for tp, items in by_partition.items():
            for timed_step in self._flows[tp][0]:
                step = timed_step.step
                assert isinstance(step, BatchStep)
                start = clock()
                try:
                    await self._retrying(timed_step.name, partial(step.fn, items))
                except Exception as exc:
                    log.critical(
                        "%s: batch step %s failed on %s[%d] (%s): stopping, batch of %d left "
                        "uncommitted",
                        self.stage,
                        timed_step.name,
                        tp[0],
                        tp[1],
                        type(exc).__name__,
                        len(batch),
                    )
                    raise
                ns = clock() - start
                timed_step.observe(ns / 1e9)  # one observation per batch, not per record
                if self.times is not None:
                    self.times.add(timed_step.name, ns, len(items))

    def _count(self, tally: Counter[tuple[str, str]]) -> None:
        """Tips per (channel, outcome) of one batch, added once per label set, not per tip."""
        for labels, n in tally.items():
            child = self._tips.get(labels)
            if child is None:
                child = self._tips[labels] = STAGE_TIPS.labels(self.stage, *labels)
            child.inc(n)

    async def _store(
        self, stored: list[tuple[Message, Any]], tally: Counter[tuple[str, str]]
    ) -> list[Produce]:
        assert self.sink is not None
        items = [item for _, item in stored]
        result = await self._write(items)
        self.counters.add("tips_stored", result.inserted)
        self.counters.add(
            "tips_already_stored", len(items) - result.inserted - len(result.rejected)
        )
        dead = []
        origin = {id(item): msg for msg, item in stored}
        for item in items:
            tally[(getattr(item, "channel", UNKNOWN_CHANNEL), "out")] += 1
        for item, reason in result.rejected:
            channel = getattr(item, "channel", UNKNOWN_CHANNEL)
            tally[(channel, "out")] -= 1
            tally[(channel, "dead")] += 1
            tip_id = getattr(item, "tip_id", None)
            refused = RowRefusedError(reason, tip_id=tip_id)
            dead.append(self._dead_letter(origin[id(item)], refused, tip_id))
        log.info("stored %d new of %d tips", result.inserted, len(items))
        return dead

    def _dead_letter(self, msg: Message, exc: BaseException, tip_id: str | None) -> Produce:
        record = dead_letter(
            self.stage,
            exc,
            msg.value,
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            tip_id=tip_id,
        )
        self.counters.add("dead_letters")
        DEAD_LETTERS_BY_REASON.labels(record.stage, record.error).inc()
        log.warning(
            "dead-lettered %s[%d]@%d (tip %s): %s",
            msg.topic,
            msg.partition,
            msg.offset,
            record.tip_id,
            record.reason,
        )
        return Produce(self.dead_topic, (record.tip_id or "").encode(), encode(record))

    # -- waiting on services ----------------------------------------------------------------

    async def _run_async(self, step: AsyncStep, value: Any) -> Any:
        return await self._retrying(step.name, partial(step.fn, value))

    async def _retrying(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        delay = self.backoff.first
        while True:
            try:
                return await call()
            except TransientError as exc:
                delay = await self._pause(what, exc, delay)

    async def _write(self, items: list[Any]) -> SinkResult:
        """Write to the sink; on back-pressure the input pauses (this batch is not committed,
        no further batch is taken) and the same batch is written again."""
        assert self.sink is not None
        delay = self.backoff.first
        while True:
            try:
                return await self.sink.write(items)
            except TransientError as exc:
                delay = await self._pause("sink write", exc, delay)

    async def _pause(self, what: str, exc: TransientError, delay: float) -> float:
        wait = exc.retry_after if isinstance(exc, BackpressureError) else delay
        log.warning("%s: %s failed (%s); retrying in %.1fs", self.stage, what, exc, wait)
        self.counters.add("retries")
        await asyncio.sleep(wait)
        return min(delay * 2, self.backoff.most)
