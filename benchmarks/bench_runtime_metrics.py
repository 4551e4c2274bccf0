"""CPU cost per tip of the runner's instrumentation (issue #13): step latency histograms, tip
counts per stage and channel, dead letters by reason.

The runner is the one place every record passes, so its metrics are one hook; this measures
what that hook costs. Each row runs the same tips through a Runner over the in-memory backend
(no broker, no I/O), in this process, and reports CPU time (``time.process_time``) per tip,
best of five rounds (the machine is shared; CPU time is less distorted than wall time):

- the real clean flow (normalise → detect_language → redact), instrumented as in production,
  for scale;
- eight identity steps, instrumented (one histogram observation per step, counts per batch);
- the same eight identity steps with the observer and the per-batch counts switched off.

The difference of the last two rows is the instrumentation's cost per tip for eight steps
(the triage flow has five, the clean flow three).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processors.flows import clean_flow  # noqa: E402
from processors.runtime.backends.memory import MemoryBroker, MemoryConsumer  # noqa: E402
from processors.runtime.runner import Runner  # noqa: E402
from processors.runtime.steps import Flow  # noqa: E402
from processors.sender_key import SenderKeyer  # noqa: E402
from schemas import RawTip  # noqa: E402

TIPS = 2_000
ROUNDS = 5
BODY = (
    "I saw the same bag in a Rossmann shop in Vienna last spring, on the shelf by the till; "
    "the woman there said they had sold dozens of them. My cousin has one too, bought in "
    "Graz. The pattern and the handle look exactly like the one in your picture of object 7."
)


def identity_1(v: Any) -> Any:
    return v


IDENTITY: Flow = tuple(identity_1 for _ in range(8))


def _values() -> list[bytes]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        RawTip(
            tip_id=f"b-{i:05d}",
            channel=("web", "email", "social")[i % 3],
            received_at=start + timedelta(seconds=i),
            object_ref=str(i % 50),
            body=BODY,
            channel_meta={"sender": f"s{i}@example.org"},
        )
        .model_dump_json()
        .encode()
        for i in range(TIPS)
    ]


def _no_observer(_name: str) -> Any:
    return lambda _seconds: None


def cpu_us_per_tip(flow: Flow, values: list[bytes], *, instrumented: bool) -> float:
    best = float("inf")
    saved = Runner._count
    if not instrumented:
        Runner._count = lambda self, tally: None  # type: ignore[method-assign]
    try:
        for _ in range(ROUNDS):
            broker = MemoryBroker(partitions=1)
            for v in values:
                broker.produce("raw", b"k", v)
            kwargs: dict[str, Any] = {} if instrumented else {"observer": _no_observer}
            runner = Runner(
                stage="clean",
                model=RawTip,
                flow_for=lambda _p: flow,
                dead_topic="dead",
                out_topic="clean",
                **kwargs,
            )
            consumer = MemoryConsumer(broker, runner, "raw", batch_size=200)
            start = time.process_time()
            asyncio.run(consumer.drain())
            best = min(best, (time.process_time() - start) / len(values) * 1e6)
    finally:
        Runner._count = saved  # type: ignore[method-assign]
    return best


def main() -> None:
    values = _values()
    clean = clean_flow(SenderKeyer("k1", b"b" * 32))
    cpu_us_per_tip(clean, values[:200], instrumented=True)  # warm up models and caches
    rows = [
        ("clean flow, instrumented", cpu_us_per_tip(clean, values, instrumented=True)),
        ("8 identity steps, instrumented", cpu_us_per_tip(IDENTITY, values, instrumented=True)),
        ("8 identity steps, bare", cpu_us_per_tip(IDENTITY, values, instrumented=False)),
    ]
    print(f"runner instrumentation, {TIPS} tips, best of {ROUNDS}, CPU µs per tip")
    for name, us in rows:
        print(f"  {name:<34} {us:8.1f}")
    cost = rows[1][1] - rows[2][1]
    print(f"  instrumentation for 8 steps         {cost:8.1f} µs/tip ({cost / 8:.2f} µs per step)")


if __name__ == "__main__":
    main()
