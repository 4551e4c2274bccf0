"""The stream runtime over the in-memory backend: commits, holds, poison, bugs, rebalance."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from processors.flows import TriageState, clean_flow, triage_flow
from processors.lexicon import load_lexicon
from processors.runtime.backends.memory import MemoryBroker, MemoryConsumer, ProduceFailedError
from processors.runtime.dlq import DlqLimit, DlqLimitExceededError
from processors.runtime.runner import Backoff, Runner
from processors.runtime.steps import Flow, async_step, batch_step, timed
from processors.sender_key import SenderKeyer
from schemas import DeadLetter, RawTip, ScoredTip, Tip
from tipline.core.errors import RejectedContentError, SinkBackpressureError, TransientError
from tipline.core.metrics import Counters
from tipline.core.settings import Settings

KEYER = SenderKeyer("k1", b"s" * 32)
BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NO_WAIT = Backoff(first=0.0, most=0.0)
LEXICON = load_lexicon()


def raw(i: int, body: str | None = None, object_ref: str = "7") -> RawTip:
    return RawTip(
        tip_id=f"t-{i:04d}",
        channel="email",
        received_at=BASE + timedelta(seconds=i),
        object_ref=object_ref,
        body=body or f"Saw this bag in a Lidl in Graz, aisle {i}",
        channel_meta={"sender": f"tipster{i}@example.org", "ip": "198.51.100.7"},
    )


def value(tip: RawTip) -> bytes:
    return tip.model_dump_json().encode()


def clean_runner(flow: Flow | None = None, **kw: Any) -> Runner:
    the_flow = flow if flow is not None else clean_flow(KEYER)
    return Runner(
        stage="clean",
        model=RawTip,
        flow_for=lambda _p: the_flow,
        dead_topic="dead",
        out_topic="clean",
        backoff=NO_WAIT,
        **kw,
    )


def dead_letters(broker: MemoryBroker) -> list[DeadLetter]:
    return [DeadLetter.model_validate_json(v or b"") for v in broker.values("dead")]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


GOOD_JSON = json.loads(raw(0).model_dump_json())

# Every malformed kind we know of; each must become one dead letter and stall nothing.
POISON: list[tuple[str, bytes | None]] = [
    ("lone surrogate", json.dumps(GOOD_JSON | {"body": "x\ud800y"}).encode()),
    ("lone surrogate in meta", json.dumps(GOOD_JSON | {"channel_meta": {"a": "\udfff"}}).encode()),
    ("surrogate pair reversed", b'{"tip_id": "x", "body": "\\udc00\\ud800"}'),
    ("invalid utf-8", b'{"tip_id": "t-9", "body": "\xff\xfe"}'),
    ("not json", b"{not json"),
    ("empty bytes", b""),
    ("tombstone", None),
    ("json array", b"[1, 2, 3]"),
    ("json null", b"null"),
    ("json string", b'"hello"'),
    ("missing fields", b'{"tip_id": "t-1"}'),
    ("unknown field", json.dumps(GOOD_JSON | {"colour": "red"}).encode()),
    ("wrong type", json.dumps(GOOD_JSON | {"received_at": "yesterday"}).encode()),
    ("over the limit", json.dumps(GOOD_JSON | {"body": "a" * 20_001}).encode()),
    ("bad tip id", json.dumps(GOOD_JSON | {"tip_id": "../../etc"}).encode()),
    ("deep nesting", b'{"channel_meta": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("nul byte", json.dumps(GOOD_JSON | {"tip_id": "t\u0000"}).encode()),
]


@pytest.mark.parametrize(("kind", "payload"), POISON, ids=[k for k, _ in POISON])
def test_poison_is_dead_lettered_and_never_stalls_the_partition(
    kind: str, payload: bytes | None
) -> None:
    broker = MemoryBroker(partitions=1)
    broker.produce("raw", b"7", value(raw(1)))
    broker.produce("raw", b"7", payload)
    broker.produce("raw", b"7", value(raw(2)))
    consumer = MemoryConsumer(broker, clean_runner(), "raw", batch_size=2)
    run(consumer.drain())
    assert broker.position("test", "raw", 0) == 3  # committed past the poison
    clean = [Tip.model_validate_json(v or b"") for v in broker.values("clean")]
    assert [t.tip_id for t in clean] == ["t-0001", "t-0002"]
    (letter,) = dead_letters(broker)
    assert letter.stage == "clean" and letter.offset == 1 and letter.reason
    assert "tipster" not in letter.payload and "198.51.100.7" not in letter.payload


def test_output_is_committed_only_after_it_is_durable() -> None:
    broker = MemoryBroker(partitions=1)
    for i in range(5):
        broker.produce("raw", b"7", value(raw(i)))
    consumer = MemoryConsumer(broker, clean_runner(), "raw", batch_size=10)
    broker.fail_produce = True
    with pytest.raises(ProduceFailedError):
        run(consumer.poll_once())
    assert broker.position("test", "raw", 0) == 0  # held: replayed after the outage
    broker.fail_produce = False
    assert run(consumer.drain()) == 5
    assert broker.position("test", "raw", 0) == 5
    assert len(broker.values("clean")) == 5


def test_clean_flow_detects_language_before_redaction_and_strips_the_tipster() -> None:
    broker = MemoryBroker(partitions=1)
    body = "Die Tasche gibt es bei Rossmann in Wien. Schreib mir: anna.berger@example.at"
    broker.produce("raw", b"7", value(raw(1, body)))
    run(MemoryConsumer(broker, clean_runner(), "raw").drain())
    (out,) = broker.values("clean")
    tip = Tip.model_validate_json(out or b"")
    assert tip.language == "de"
    assert "anna.berger" not in tip.body and "tipster1" not in (out or b"").decode()
    assert tip.sender_key and tip.sender_key.startswith("k1:")


class BugError(Exception):
    pass


def buggy(tip: RawTip) -> RawTip:
    if tip.tip_id == "t-0003":
        raise BugError("a bug in a new release")
    return tip


def test_a_bug_in_a_step_stops_with_nothing_committed_and_nothing_dead_lettered() -> None:
    broker = MemoryBroker(partitions=1)
    for i in range(6):
        broker.produce("raw", b"7", value(raw(i)))
    flow = (*clean_flow(KEYER)[:2], buggy, clean_flow(KEYER)[2])
    consumer = MemoryConsumer(broker, clean_runner(flow), "raw", batch_size=10)
    with pytest.raises(BugError):
        run(consumer.poll_once())
    assert broker.position("test", "raw", 0) == 0
    assert broker.values("dead") == []
    assert broker.values("clean") == []  # nothing of the failed batch was produced
    # The fixed release replays the batch from the uncommitted offset.
    fixed = MemoryConsumer(broker, clean_runner(), "raw", batch_size=10)
    run(fixed.drain())
    assert len(broker.values("clean")) == 6


def test_invalid_input_raised_by_a_step_is_dead_lettered_with_its_reason() -> None:
    def refuse(tip: RawTip) -> RawTip:
        if tip.tip_id == "t-0001":
            raise RejectedContentError("attachment: executable refused", tip_id=tip.tip_id)
        return tip

    broker = MemoryBroker(partitions=1)
    for i in range(3):
        broker.produce("raw", b"7", value(raw(i)))
    run(MemoryConsumer(broker, clean_runner((refuse, *clean_flow(KEYER))), "raw").drain())
    (letter,) = dead_letters(broker)
    assert letter.reason == "attachment: executable refused" and letter.tip_id == "t-0001"
    assert len(broker.values("clean")) == 2


@pytest.mark.parametrize(
    ("limit", "good_every"),
    [
        (DlqLimit(max_consecutive_count=5, max_invalid_ratio=None), 0),
        (DlqLimit(max_consecutive_count=None, max_invalid_ratio=0.5, min_records=20), 2),
    ],
)
def test_a_flood_of_invalid_records_stops_instead_of_draining_the_topic(
    limit: DlqLimit, good_every: int
) -> None:
    broker = MemoryBroker(partitions=1)
    for i in range(100):
        good = good_every and i % (good_every + 1) == 0
        broker.produce("raw", b"7", value(raw(i)) if good else b"{not json")
    consumer = MemoryConsumer(broker, clean_runner(dlq_limit=limit), "raw", batch_size=10)
    with pytest.raises(DlqLimitExceededError):
        run(consumer.drain())
    assert broker.position("test", "raw", 0) < 100


def test_below_the_limits_invalid_records_flow_to_the_dead_letters() -> None:
    broker = MemoryBroker(partitions=1)
    for i in range(100):
        broker.produce("raw", b"7", value(raw(i)) if i % 4 else b"{not json")
    limit = DlqLimit(max_consecutive_count=2, max_invalid_ratio=0.3, min_records=20)
    run(MemoryConsumer(broker, clean_runner(dlq_limit=limit), "raw").drain())
    assert len(dead_letters(broker)) == 25 and len(broker.values("clean")) == 75


def test_a_transient_failure_in_an_async_step_is_retried_not_dead_lettered() -> None:
    calls: list[str] = []

    async def flaky(tip: RawTip) -> RawTip:
        calls.append(tip.tip_id)
        if len(calls) <= 2:
            raise TransientError("database unavailable")
        return tip

    counters = Counters()
    broker = MemoryBroker(partitions=1)
    broker.produce("raw", b"7", value(raw(1)))
    runner = clean_runner((async_step(flaky), *clean_flow(KEYER)), counters=counters)
    run(MemoryConsumer(broker, runner, "raw").drain())
    assert calls == ["t-0001"] * 3
    assert counters.take()["retries"] == 2
    assert len(broker.values("clean")) == 1 and broker.values("dead") == []


# --- the sink ---------------------------------------------------------------------------------


@dataclass
class ListSink:
    """A sink that keeps what it was given; ``pressure`` writes are refused first."""

    pressure: int = 0
    refuse: set[str] = field(default_factory=set)
    stored: dict[str, Any] = field(default_factory=dict)
    writes: int = 0

    async def write(self, batch: Sequence[Any], /) -> Any:
        self.writes += 1
        if self.pressure > 0:
            self.pressure -= 1
            raise SinkBackpressureError(0.0)
        new = 0
        for tip in batch:
            if tip.tip_id not in self.stored and tip.tip_id not in self.refuse:
                self.stored[tip.tip_id] = tip
                new += 1
        rejected = tuple(
            (t, "database refused the row: DataError") for t in batch if t.tip_id in self.refuse
        )

        @dataclass
        class Result:
            inserted: int
            rejected: tuple[tuple[Any, str], ...]

        return Result(new, rejected)

    async def close(self) -> None:
        pass


def scored(i: int) -> bytes:
    tip = ScoredTip(tip_id=f"s-{i}", channel="web", received_at=BASE, body="Lidl, Graz", score=50)
    return tip.model_dump_json().encode()


def sink_runner(sink: ListSink, counters: Counters | None = None) -> Runner:
    return Runner(
        stage="sink",
        model=ScoredTip,
        flow_for=lambda _p: (),
        dead_topic="dead",
        sink=sink,
        backoff=NO_WAIT,
        counters=counters or Counters(),
    )


def test_sink_backpressure_pauses_and_writes_the_same_batch_again() -> None:
    sink = ListSink(pressure=2)
    counters = Counters()
    broker = MemoryBroker(partitions=1)
    for i in range(4):
        broker.produce("scored", b"k", scored(i))
    run(MemoryConsumer(broker, sink_runner(sink, counters), "scored").drain())
    assert sink.writes == 3 and sorted(sink.stored) == [f"s-{i}" for i in range(4)]
    counts = counters.take()
    assert counts["retries"] == 2 and counts["tips_stored"] == 4


def test_rows_the_sink_refuses_become_dead_letters_and_replays_are_absorbed() -> None:
    sink = ListSink(refuse={"s-2"})
    counters = Counters()
    broker = MemoryBroker(partitions=1)
    for i in range(4):
        broker.produce("scored", b"k", scored(i))
    broker.produce("scored", b"k", scored(1))  # a replay
    run(MemoryConsumer(broker, sink_runner(sink, counters), "scored").drain())
    (letter,) = dead_letters(broker)
    assert letter.tip_id == "s-2" and letter.stage == "sink"
    counts = counters.take()
    assert counts["tips_stored"] == 3 and counts["tips_already_stored"] == 1


# --- state per partition ----------------------------------------------------------------------


@dataclass
class StoredTips:
    """What the sink stored, readable as TipStore.recent_tips reads it (no I/O here)."""

    tips: list[ScoredTip] = field(default_factory=list)
    reads: list[str | None] = field(default_factory=list)
    batches: int = 0  # sender-activity queries

    async def recent_tips(self, object_ref: str | None, limit: int) -> list[ScoredTip]:
        self.reads.append(object_ref)
        return [t for t in self.tips if t.object_ref == object_ref][-limit:]

    async def senders_events(
        self, since: Mapping[str, datetime], limit: int
    ) -> dict[str, list[tuple[datetime, str]]]:
        self.batches += 1
        found = {}
        for sender_key, start in since.items():
            self.reads.append(sender_key)
            mine = [t for t in self.tips if t.sender_key == sender_key and t.received_at >= start]
            found[sender_key] = [(t.received_at, t.tip_id) for t in mine][-limit:]
        return found

    async def picture_hash(self, object_ref: str) -> str | None:
        return None


def clean_tip(i: int, body: str, object_ref: str) -> bytes:
    tip = Tip(
        tip_id=f"c-{i:03d}",
        channel="email",
        received_at=BASE + timedelta(seconds=i),
        object_ref=object_ref,
        body=body,
        sender_key=f"k1:sender{i}",
    )
    return tip.model_dump_json().encode()


def triage_runner(store: StoredTips, *, activity: bool = True) -> Runner:
    settings = Settings()
    counters = Counters()
    senders = store if activity else None
    return Runner(
        stage="triage",
        model=Tip,
        flow_for=lambda _p: triage_flow(
            TriageState.from_settings(settings, LEXICON, store, counters, senders=senders)
        ),
        dead_topic="dead",
        out_topic="scored",
        backoff=NO_WAIT,
    )


VARIANTS = [
    "The bag is from a Rossmann shop in Vienna, I bought one there in 2019",
    "The bag is from a Rossmann shop in Vienna, I bought one there in 2019!",
    "The bag is from a Rossmann store in Vienna, I bought one there in 2019",
    "The cup is sold by Lidl in Graz",
    "The bag is from a Rossmann shop in Vienna - I bought one there in 2019",
    "The cup is sold by Lidl in Graz.",
]


def clusters_of(broker: MemoryBroker) -> list[tuple[str, str | None, int]]:
    out = [ScoredTip.model_validate_json(v or b"") for v in broker.values("scored")]
    return [
        (t.tip_id, t.cluster.cluster_id if t.cluster else None, t.cluster.size if t.cluster else 0)
        for t in out
    ]


def test_a_partition_that_moves_away_and_back_restores_its_state_from_the_store() -> None:
    def feed(broker: MemoryBroker) -> None:
        for i, body in enumerate(VARIANTS):
            broker.produce("clean", b"obj", clean_tip(i, body, "obj"))

    # Uninterrupted: one consumer sees every tip.
    steady = MemoryBroker(partitions=1)
    feed(steady)
    run(MemoryConsumer(steady, triage_runner(StoredTips()), "clean", batch_size=3).drain())

    # Interrupted: after the first batch the partition leaves and comes back; what was
    # triaged meanwhile reached the store (as the sink would have written it).
    store = StoredTips()
    moved = MemoryBroker(partitions=1)
    feed(moved)
    runner = triage_runner(store)
    consumer = MemoryConsumer(moved, runner, "clean", batch_size=3)
    run(consumer.poll_once())
    store.tips = [ScoredTip.model_validate_json(v or b"") for v in moved.values("scored")]
    consumer.rebalance(set())
    assert runner.assigned() == set()  # revoked: its state is gone
    consumer.rebalance({0})
    run(consumer.drain())
    assert store.reads.count("obj") == 2  # built on first sight, restored after coming back
    assert clusters_of(moved) == clusters_of(steady)
    # Rossmann variants, the Lidl pair, and the shop→store wording (a substitution against the
    # representative is a cluster of its own): three, restored or not.
    assert len({c for _, c, _ in clusters_of(steady)}) == 3


def bursts(broker: MemoryBroker) -> list[int]:
    out = [ScoredTip.model_validate_json(v or b"") for v in broker.values("scored")]
    return [sum(r.weight for r in t.reasons if r.feature == "burst") for t in out]


def test_sender_activity_is_restored_after_a_rebalance_and_counted_across_workers() -> None:
    def feed(broker: MemoryBroker) -> None:
        for i in range(9):
            tip = Tip(
                tip_id=f"f-{i:03d}",
                channel="email",
                received_at=BASE + timedelta(minutes=i),
                object_ref=f"obj-{i}",  # other objects, one sender: only activity links them
                body=f"Rossmann, shelf {i}",
                sender_key="k1:flood",
            )
            broker.produce("clean", b"p", tip.model_dump_json().encode())

    steady = MemoryBroker(partitions=1)
    feed(steady)
    run(MemoryConsumer(steady, triage_runner(StoredTips()), "clean", batch_size=4).drain())
    assert bursts(steady)[:5] == [0] * 5 and all(b < 0 for b in bursts(steady)[5:])

    def interrupted(activity: bool) -> list[int]:
        store = StoredTips()
        moved = MemoryBroker(partitions=1)
        feed(moved)
        # The first worker triages four tips; the sink stores them; the partition moves to a
        # second worker (a fresh runner, as after a restart), which carries on.
        run(MemoryConsumer(moved, triage_runner(store), "clean", batch_size=4).poll_once())
        store.tips = [ScoredTip.model_validate_json(v or b"") for v in moved.values("scored")]
        second = MemoryConsumer(
            moved, triage_runner(store, activity=activity), "clean", batch_size=4
        )
        run(second.drain())
        assert store.reads.count("k1:flood") == (2 if activity else 1)
        # One query per batch that meets a new sender, not one per tip.
        assert store.batches == (2 if activity else 1)
        return bursts(moved)

    assert interrupted(activity=True) == bursts(steady)
    # Without the restore the second worker starts from zero and lets the flood through.
    assert interrupted(activity=False) != bursts(steady)


def test_each_partition_has_its_own_state() -> None:
    broker = MemoryBroker(partitions=4)
    built: list[int] = []
    the_flow = clean_flow(KEYER)

    def flow_for(partition: int) -> Flow:
        built.append(partition)
        return the_flow

    runner = Runner(
        stage="clean", model=RawTip, flow_for=flow_for, dead_topic="dead", out_topic="clean"
    )
    consumer = MemoryConsumer(broker, runner, "raw", partitions={0, 1})
    assert sorted(built) == [0, 1]
    consumer.rebalance({1, 2, 3})
    assert sorted(built) == [0, 1, 2, 3]
    assert runner.assigned() == {("raw", 1), ("raw", 2), ("raw", 3)}


def test_a_batchs_new_senders_are_restored_with_one_query() -> None:
    store = StoredTips()
    broker = MemoryBroker(partitions=1)
    for i in range(6):
        broker.produce("clean", b"p", clean_tip(i, f"Rossmann, shelf {i}", f"obj-{i}"))
    run(MemoryConsumer(broker, triage_runner(store), "clean", batch_size=3).drain())
    assert store.batches == 2
    assert sorted(r for r in store.reads if r and r.startswith("k1:")) == [
        f"k1:sender{i}" for i in range(6)
    ]


def test_a_batch_step_must_lead_its_flow() -> None:
    async def prepare(_items: Sequence[Any]) -> None:
        return None

    with pytest.raises(ValueError, match="lead"):
        timed((lambda value: value, batch_step(prepare, "prepare")))


def test_a_batch_step_is_retried_on_transient_failure_and_a_bug_in_it_stops_the_batch() -> None:
    seen: list[int] = []

    async def flaky(items: Sequence[Any]) -> None:
        seen.append(len(items))
        if len(seen) == 1:
            raise TransientError("database busy")

    counters = Counters()
    broker = MemoryBroker(partitions=1)
    for i in range(3):
        broker.produce("raw", b"k", value(raw(i)))
    consumer = MemoryConsumer(
        broker, clean_runner((batch_step(flaky), *clean_flow(KEYER)), counters=counters), "raw"
    )
    run(consumer.drain())
    assert seen == [3, 3] and len(broker.values("clean")) == 3
    assert counters.take()["retries"] == 1

    async def broken(_items: Sequence[Any]) -> None:
        raise RuntimeError("a bug")

    broker = MemoryBroker(partitions=1)
    broker.produce("raw", b"k", value(raw(0)))
    consumer = MemoryConsumer(broker, clean_runner((batch_step(broken), *clean_flow(KEYER))), "raw")
    with pytest.raises(RuntimeError):
        run(consumer.poll_once())
    assert broker.position("test", "raw", 0) == 0 and not broker.values("dead")
