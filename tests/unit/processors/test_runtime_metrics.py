"""The runner's instrumentation over the in-memory backend: every step timed under its name,
tips in/out/dead per stage and channel, dead letters by reason, dedupe state on scrape."""

from __future__ import annotations

import gc

from prometheus_client import REGISTRY

from processors.flows import clean_flow
from processors.runtime.backends.memory import MemoryBroker, MemoryConsumer
from processors.runtime.runner import Runner
from processors.runtime.steps import step_name
from schemas import RawTip
from tests.unit.processors.test_runtime import (
    KEYER,
    NO_WAIT,
    VARIANTS,
    ListSink,
    StoredTips,
    clean_tip,
    raw,
    run,
    scored,
    sink_runner,
    triage_runner,
    value,
)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tips(stage: str, channel: str, outcome: str) -> float:
    return sample("tipline_stage_tips_total", stage=stage, channel=channel, outcome=outcome)


def test_clean_runner_counts_tips_by_channel_and_times_every_step() -> None:
    flow = clean_flow(KEYER)
    steps = [step_name(s) for s in flow]
    assert steps == ["normalise", "detect_language", "redact"]
    before = {
        "in": tips("clean", "email", "in"),
        "out": tips("clean", "email", "out"),
        "bad_in": tips("clean", "unknown", "in"),
        "bad_dead": tips("clean", "unknown", "dead"),
        "reason": sample(
            "tipline_dead_letters_by_reason_total", stage="clean", error="DecodeError"
        ),
        **{s: sample("tipline_stage_seconds_count", stage=s) for s in steps},
    }
    broker = MemoryBroker(partitions=1)
    for i in range(3):
        broker.produce("raw", b"7", value(raw(i)))
    broker.produce("raw", b"7", b"{not json")
    runner = Runner(
        stage="clean",
        model=RawTip,
        flow_for=lambda _p: flow,
        dead_topic="dead",
        out_topic="clean",
        backoff=NO_WAIT,
    )
    run(MemoryConsumer(broker, runner, "raw", batch_size=10).drain())
    assert tips("clean", "email", "in") - before["in"] == 3
    assert tips("clean", "email", "out") - before["out"] == 3
    assert tips("clean", "unknown", "in") - before["bad_in"] == 1  # undecodable: no channel
    assert tips("clean", "unknown", "dead") - before["bad_dead"] == 1
    # The decoding failure's class, never its text (which may quote the tip).
    reason = sample("tipline_dead_letters_by_reason_total", stage="clean", error="DecodeError")
    assert reason - before["reason"] == 1
    for s in steps:
        assert sample("tipline_stage_seconds_count", stage=s) - before[s] == 3, s
        assert sample("tipline_stage_seconds_sum", stage=s) > 0, s


def test_a_custom_observer_sees_each_step_in_order() -> None:
    seen: list[tuple[str, float]] = []
    broker = MemoryBroker(partitions=1)
    broker.produce("raw", b"7", value(raw(1)))
    flow = clean_flow(KEYER)
    runner = Runner(
        stage="clean",
        model=RawTip,
        flow_for=lambda _p: flow,
        dead_topic="dead",
        out_topic="clean",
        observer=lambda name: lambda seconds: seen.append((name, seconds)),
    )
    run(MemoryConsumer(broker, runner, "raw").drain())
    assert [name for name, _ in seen] == ["normalise", "detect_language", "redact"]
    assert all(seconds >= 0 for _, seconds in seen)


def test_sink_counts_stored_and_refused_rows_by_channel() -> None:
    before_out, before_dead = tips("sink", "web", "out"), tips("sink", "web", "dead")
    before_reason = sample(
        "tipline_dead_letters_by_reason_total", stage="sink", error="RowRefusedError"
    )
    broker = MemoryBroker(partitions=1)
    for i in range(4):
        broker.produce("scored", b"k", scored(i))
    run(MemoryConsumer(broker, sink_runner(ListSink(refuse={"s-2"})), "scored").drain())
    assert tips("sink", "web", "out") - before_out == 3
    assert tips("sink", "web", "dead") - before_dead == 1
    reason = sample("tipline_dead_letters_by_reason_total", stage="sink", error="RowRefusedError")
    assert reason - before_reason == 1


def test_dedupe_state_size_is_exported_and_leaves_with_a_revoked_partition() -> None:
    gc.collect()
    before = sample("tipline_dedupe_objects")
    broker = MemoryBroker(partitions=1)
    for i, body in enumerate(VARIANTS):
        broker.produce("clean", b"obj", clean_tip(i, body, f"obj{i % 2}"))
    runner = triage_runner(StoredTips())
    consumer = MemoryConsumer(broker, runner, "clean")
    run(consumer.drain())
    assert sample("tipline_dedupe_objects") - before == 2
    assert sample("tipline_dedupe_exemplars") >= 2
    consumer.rebalance(set())  # revoked: the partition's state is dropped, and its size with it
    gc.collect()
    assert sample("tipline_dedupe_objects") == before
