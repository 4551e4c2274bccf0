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
from typing import Any, TypeVar

import faust

from processors.codec import decode
from processors.deadletter import dead_letter
from processors.dedupe import DedupeIndex, dedupe
from processors.evidence import extract_evidence
from processors.language import detect_language, warm_up
from processors.normalise import normalise
from processors.redact import redact
from processors.score import score
from processors.sender_key import SenderKeyer
from review.sink import TipWriter
from review.store import TipStore
from schemas import RawTip, ScoredTip, Tip
from schemas.dead import Stage
from tipline.errors import InvalidInputError, TransientError
from tipline.settings import Settings
from tipline.topics import Topics

log = logging.getLogger(__name__)
T = TypeVar("T")

STREAM_BATCH = 200  # events per produce round-trip in the stream stages
STREAM_BATCH_SECONDS = 0.05
RESTORE_LIMIT = 20_000  # earlier tips read back per object when its dedupe state is rebuilt


@dataclass
class Pipeline:
    """The stages in order, bound to the state some of them need. Pure apart from that state."""

    sender_keys: SenderKeyer
    index: DedupeIndex = field(default_factory=DedupeIndex)

    def clean(self, raw: RawTip) -> Tip:
        return detect_language(redact(normalise(raw), self.sender_keys))

    def triage(self, tip: Tip) -> ScoredTip:
        return score(dedupe(extract_evidence(tip), self.index))


def hold(events: Sequence[faust.EventT]) -> None:
    """Keep a failed batch's offsets uncommitted, so it is replayed after a restart.

    faust's ``take_events`` acks a batch in a ``finally`` even when the body raised; an extra
    reference makes that ack non-final, so the offset is never marked safe to commit.
    """
    for event in events:
        event.message.incref()


def _where(event: faust.EventT) -> dict[str, Any]:
    return {"partition": event.message.partition, "offset": event.message.offset}


def create_app(
    settings: Settings, sender_keys: SenderKeyer, index: DedupeIndex | None = None
) -> faust.App:
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

    raw_topic, clean_topic = topic(topics.raw), topic(topics.clean)
    scored_topic, dead_topic = topic(topics.scored), topic(topics.dead)
    pipeline = Pipeline(sender_keys=sender_keys, index=index or DedupeIndex())
    warm_up()  # load language models now, not on the first tip after a press release
    store = TipStore(database_url)
    writer = TipWriter(database_url)
    restored: set[str | None] = set()

    async def send_dead(
        stage: Stage, exc: BaseException, event: faust.EventT, tip_id: str | None = None
    ) -> Awaitable[Any]:
        record = dead_letter(
            stage, exc, event.value, source_topic=event.message.topic, tip_id=tip_id,
            **_where(event),
        )
        log.warning(
            "dead-lettered message at %s[%d]@%d (tip %s): %s",
            event.message.topic, event.message.partition, event.message.offset,
            record.tip_id, record.reason,
        )
        fut: Awaitable[Any] = await dead_topic.send(
            key=(record.tip_id or "").encode() or None, value=record.model_dump_json().encode()
        )
        return fut

    @app.agent(raw_topic, name="clean", concurrency=1)
    async def clean(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for events in stream.take_events(STREAM_BATCH, within=STREAM_BATCH_SECONDS):
            try:
                pending: list[Awaitable[Any]] = []
                for event in events:
                    tip_id = None
                    try:
                        raw = decode(RawTip, event.value)
                        tip_id = raw.tip_id
                        tip = pipeline.clean(raw)
                    except Exception as exc:  # one bad tip must never stop the worker
                        pending.append(await send_dead("clean", exc, event, tip_id))
                        continue
                    pending.append(
                        await clean_topic.send(
                            key=tip.partition_key().encode(), value=tip.model_dump_json().encode()
                        )
                    )
                await asyncio.gather(*pending)
            except BaseException:
                hold(events)
                raise
            yield None

    async def restore(object_ref: str | None) -> None:
        """Rebuild an object's dedupe state from the database the first time we see it."""
        if object_ref in restored:
            return
        earlier = await store.recent_tips(object_ref, RESTORE_LIMIT)
        pipeline.index.restore(earlier)
        restored.add(object_ref)
        if earlier:
            log.info("restored dedupe state of object %s from %d tips", object_ref, len(earlier))

    @app.agent(clean_topic, name="triage", concurrency=1)
    async def triage(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for events in stream.take_events(STREAM_BATCH, within=STREAM_BATCH_SECONDS):
            try:
                pending: list[Awaitable[Any]] = []
                for event in events:
                    tip_id = None
                    try:
                        tip = decode(Tip, event.value)
                        tip_id = tip.tip_id
                        await retry_transient(lambda t=tip: restore(t.object_ref), "restore")
                        scored = pipeline.triage(tip)
                    except Exception as exc:  # one bad tip must never stop the worker
                        pending.append(await send_dead("triage", exc, event, tip_id))
                        continue
                    pending.append(
                        await scored_topic.send(
                            key=scored.partition_key().encode(),
                            value=scored.model_dump_json().encode(),
                        )
                    )
                await asyncio.gather(*pending)
            except BaseException:
                hold(events)
                raise
            yield None

    @app.agent(scored_topic, name="sink", concurrency=1)
    async def sink(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for events in stream.take_events(
            settings.sink_batch_size, within=settings.sink_batch_seconds
        ):
            try:
                pending: list[Awaitable[Any]] = []
                batch: list[ScoredTip] = []
                origin: dict[str, faust.EventT] = {}
                for event in events:
                    try:
                        tip = decode(ScoredTip, event.value)
                    except Exception as exc:
                        pending.append(await send_dead("sink", exc, event))
                        continue
                    batch.append(tip)
                    origin[tip.tip_id] = event
                result = await retry_transient(lambda: writer.write(batch), "sink write")
                for tip, reason in result.rejected:
                    exc = _Refused(reason)
                    pending.append(await send_dead("sink", exc, origin[tip.tip_id], tip.tip_id))
                await asyncio.gather(*pending)
                log.info("stored %d new of %d tips", result.inserted, len(batch))
            except BaseException:
                hold(events)
                raise
            yield None

    # The connections close with the process: closing them earlier, while an agent may still
    # be finishing a batch, would only turn a clean stop into a retry.
    del clean, triage, sink  # registered on the app; the names only label its logs
    return app


class _Refused(InvalidInputError):
    """A row the database refused; its reason names the error type only."""


async def retry_transient(
    call: Callable[[], Awaitable[T]], what: str, *, first_delay: float = 0.2, max_delay: float = 30.0
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
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
