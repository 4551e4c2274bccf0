"""The faust app: topics, agents and the order of stages. Read this file to know the flow.

    tips.raw ──clean──▶ tips.clean ──triage──▶ tips.scored ──sink──▶ PostgreSQL
        │  normalise → redact → detect_language      │  extract_evidence → dedupe → score
        └────────────── tips.dead (reason, never tipster data) ◀──────────────┘

Every agent runs with concurrency 1: faust bug #606 commits offsets past unfinished events when
concurrency > 1. Offsets of a batch are committed only after its output is durable — produced
with acks=all for the stream stages, committed to PostgreSQL for the sink — so a killed worker
replays at most one commit interval, and the idempotent sink absorbs the replay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import faust
from faust.types import EventT, StreamT

from processors.activity import ActivityLimits, SenderActivity
from processors.codec import decode
from processors.deadletter import dead_letter
from processors.dedupe import DedupeIndex, dedupe
from processors.evidence import extract_evidence
from processors.language import detect_language, warm_up
from processors.lexicon import Lexicon, load_lexicon
from processors.normalise import normalise
from processors.redact import redact
from processors.score import score
from processors.sender_key import SenderKeyer
from processors.urgent import flag_urgent
from review.sink import TipWriter
from review.store import TipStore
from schemas import RawTip, ScoredTip, Tip
from schemas.dead import Stage
from tipline.errors import InvalidInputError, TransientError
from tipline.metrics import Counters, Metric, report
from tipline.settings import Settings
from tipline.topics import Topics

log = logging.getLogger(__name__)
T = TypeVar("T")
In = TypeVar("In", RawTip, Tip)
Event = EventT[bytes]

STREAM_BATCH = 200  # events per produce round-trip in the stream stages
STREAM_BATCH_SECONDS = 0.05
RESTORE_LIMIT = 20_000  # earlier tips read back per object when its dedupe state is rebuilt


@dataclass
class Pipeline:
    """The stages in order, bound to the state some of them need. Pure apart from that state."""

    sender_keys: SenderKeyer
    index: DedupeIndex = field(default_factory=DedupeIndex)
    activity: SenderActivity = field(default_factory=SenderActivity)
    lexicon: Lexicon = field(default_factory=load_lexicon)

    @classmethod
    def from_settings(cls, settings: Settings, sender_keys: SenderKeyer) -> Pipeline:
        return cls(
            sender_keys=sender_keys,
            index=DedupeIndex.from_settings(settings),
            activity=SenderActivity(ActivityLimits.from_settings(settings)),
            lexicon=load_lexicon(settings.score_lexicon_path),
        )

    def clean(self, raw: RawTip) -> Tip:
        return detect_language(redact(normalise(raw), self.sender_keys))

    def triage(self, tip: Tip) -> ScoredTip:
        evidenced = extract_evidence(tip, self.lexicon)
        return flag_urgent(score(dedupe(evidenced, self.index), self.activity))


class RowRefusedError(InvalidInputError):
    """The database refused a row (a data error, not an outage); its reason names the type."""


def hold(events: Sequence[Event]) -> None:
    """Keep a failed batch's offsets uncommitted, so it is replayed after a restart.

    faust's ``take_events`` acks a batch in a ``finally`` even when the body raised; an extra
    reference makes that ack non-final, so the offset is never marked safe to commit.
    """
    for event in events:
        event.message.incref()


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    what: str,
    *,
    first_delay: float = 0.2,
    max_delay: float = 30.0,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Await ``call()`` until it stops raising TransientError, backing off exponentially.

    Waiting is right here: the batch stays uncommitted, Kafka keeps the input, and the worker
    resumes where it stopped once the service is back.
    """
    delay = first_delay
    while True:
        try:
            return await call()
        except TransientError as exc:
            log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            if on_retry is not None:
                on_retry()
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


@dataclass
class Worker:
    """One worker's stages, topics and service clients; each ``*_batch`` handles one batch and
    returns the sends to await before the batch may be committed."""

    pipeline: Pipeline
    clean_topic: faust.TopicT
    scored_topic: faust.TopicT
    dead_topic: faust.TopicT
    writer: TipWriter
    store: TipStore
    counters: Counters = field(default_factory=Counters)

    def count_retry(self) -> None:
        self.counters.add("retries")

    async def send(self, topic: faust.TopicT, key: str, value: bytes) -> Awaitable[Any]:
        fut: Awaitable[Any] = await topic.send(key=key.encode(), value=value)
        return fut

    async def send_dead(
        self, stage: Stage, exc: BaseException, event: Event, tip_id: str | None = None
    ) -> Awaitable[Any]:
        msg = event.message
        self.counters.add("dead_letters")
        record = dead_letter(
            stage,
            exc,
            event.value,
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            tip_id=tip_id,
        )
        log.warning(
            "dead-lettered %s[%d]@%d (tip %s): %s",
            msg.topic,
            msg.partition,
            msg.offset,
            record.tip_id,
            record.reason,
        )
        return await self.send(
            self.dead_topic, record.tip_id or "", record.model_dump_json().encode()
        )

    async def transform_batch(
        self,
        events: Sequence[Event],
        *,
        stage: Stage,
        model: type[In],
        step: Callable[[In], Awaitable[Tip]],
        out: faust.TopicT,
        done: Metric,
    ) -> list[Awaitable[Any]]:
        """Decode each event as ``model``, run ``step`` on it and send the result to ``out``;
        an event that fails anywhere goes to the dead-letter topic instead."""
        sends = []
        for event in events:
            tip_id = None
            try:
                tip_in = decode(model, event.value)
                tip_id = tip_in.tip_id
                tip_out = await step(tip_in)
            except Exception as exc:  # one bad tip must never stop the worker
                sends.append(await self.send_dead(stage, exc, event, tip_id))
                continue
            value = tip_out.model_dump_json().encode()
            sends.append(await self.send(out, tip_out.partition_key(), value))
            self.counters.add(done)
        return sends

    async def clean_batch(self, events: Sequence[Event]) -> list[Awaitable[Any]]:
        return await self.transform_batch(
            events,
            stage="clean",
            model=RawTip,
            step=self.clean,
            out=self.clean_topic,
            done="tips_cleaned",
        )

    async def triage_batch(self, events: Sequence[Event]) -> list[Awaitable[Any]]:
        return await self.transform_batch(
            events,
            stage="triage",
            model=Tip,
            step=self.triage,
            out=self.scored_topic,
            done="tips_triaged",
        )

    async def clean(self, raw: RawTip) -> Tip:
        return self.pipeline.clean(raw)

    async def triage(self, tip: Tip) -> ScoredTip:
        restore = partial(self.restore, tip.object_ref)
        await retry_transient(restore, "dedupe restore", on_retry=self.count_retry)
        return self.pipeline.triage(tip)

    async def restore(self, object_ref: str | None) -> None:
        """Rebuild an object's dedupe state from the database when the index holds none: after
        a restart, a rebalance that moved the partition here, or an eviction."""
        if self.pipeline.index.holds(object_ref):
            return
        earlier = await self.store.recent_tips(object_ref, RESTORE_LIMIT)
        self.pipeline.index.restore(earlier)
        if earlier:
            self.counters.add("dedupe_restores")
            log.info("restored dedupe state of object %s from %d tips", object_ref, len(earlier))

    async def sink_batch(self, events: Sequence[Event]) -> list[Awaitable[Any]]:
        sends = []
        batch: list[ScoredTip] = []
        origin: dict[str, Event] = {}
        for event in events:
            try:
                tip = decode(ScoredTip, event.value)
            except Exception as exc:  # one bad tip must never stop the worker
                sends.append(await self.send_dead("sink", exc, event))
                continue
            batch.append(tip)
            origin[tip.tip_id] = event
        write = partial(self.writer.write, batch)
        result = await retry_transient(write, "sink write", on_retry=self.count_retry)
        self.counters.add("tips_stored", result.inserted)
        self.counters.add(
            "tips_already_stored", len(batch) - result.inserted - len(result.rejected)
        )
        for tip, reason in result.rejected:
            refused = RowRefusedError(reason, tip_id=tip.tip_id)
            sends.append(await self.send_dead("sink", refused, origin[tip.tip_id], tip.tip_id))
        log.info("stored %d new of %d tips", result.inserted, len(batch))
        return sends


def batch_agent(
    name: str,
    handle: Callable[[Sequence[Event]], Awaitable[list[Awaitable[Any]]]],
    size: int,
    within: float,
) -> Callable[[StreamT[bytes]], AsyncIterator[None]]:
    """An agent that feeds its stream to ``handle`` in batches. A batch is committable only
    once every send it made was acknowledged, and is held back (replayed later) if anything in
    it failed."""

    async def agent(stream: StreamT[bytes]) -> AsyncIterator[None]:
        async for events in stream.take_events(size, within=within):  # type: ignore[attr-defined]
            try:
                await asyncio.gather(*await handle(events))
            except BaseException:
                hold(events)
                raise
            yield None

    agent.__name__ = agent.__qualname__ = name  # faust names the agent (and its logs) by this
    return agent


def create_app(settings: Settings, sender_keys: SenderKeyer) -> faust.App:
    """Build the app for resolved settings (``kafka`` and ``database_url`` must be set)."""
    if not settings.kafka or not settings.database_url:
        raise ValueError("create_app needs resolved kafka and database_url settings")
    database_url = settings.database_url.get_secret_value()
    topics = Topics.from_settings(settings)
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{host}" for host in settings.kafka.split(",")],
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_allow_declare=False,  # topics are created explicitly with our partition count
        topic_disable_leader=True,
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=settings.heartbeat_interval,
        broker_commit_interval=settings.commit_interval,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        datadir=str(settings.data_dir / "faust"),
    )

    def topic(name: str) -> faust.TopicT:
        return app.topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")

    worker = Worker(
        pipeline=Pipeline.from_settings(settings, sender_keys),
        clean_topic=topic(topics.clean),
        scored_topic=topic(topics.scored),
        dead_topic=topic(topics.dead),
        writer=TipWriter(database_url),
        store=TipStore(database_url),
    )
    warm_up()  # load language models now, not on the first tip after a press release

    app.agent(topic(topics.raw), name="clean", concurrency=1)(
        batch_agent("clean", worker.clean_batch, STREAM_BATCH, STREAM_BATCH_SECONDS)
    )
    app.agent(worker.clean_topic, name="triage", concurrency=1)(
        batch_agent("triage", worker.triage_batch, STREAM_BATCH, STREAM_BATCH_SECONDS)
    )
    app.agent(worker.scored_topic, name="sink", concurrency=1)(
        batch_agent(
            "sink", worker.sink_batch, settings.sink_batch_size, settings.sink_batch_seconds
        )
    )

    @app.timer(interval=settings.metrics_interval)  # type: ignore[untyped-decorator]
    async def report_metrics() -> None:
        counts = worker.counters.take()
        if any(counts.values()):
            log.info("metrics over %gs: %s", settings.metrics_interval, report(counts))

    # Database connections close with the process: closing them earlier, while an agent may
    # still be finishing a batch, would only turn a clean stop into a retry.
    return app
