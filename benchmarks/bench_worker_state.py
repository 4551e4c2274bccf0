"""A worker's dedupe state at scale: RSS with ``BENCH_STATE_TIPS`` tips (default 1,000,000) held
by one ``DedupeIndex`` (the worker's per-partition index, default caps from Settings), spread
over ``BENCH_STATE_OBJECTS`` objects (default 50, as in bench_pipeline), and what the garbage
collector then costs: a full collection's pause with the state in the collector's view, and
after ``gc.freeze()``; plus the collections and their total pause while 20,000 more tips go
through ``dedupe`` (the steady state of a worker whose state is this big), before and
after the freeze, and with the worker's raised gen0 threshold (pauses are CPU time).

Tips come from bench_dedupe's synthetic history (variants of common guesses, one in four
unique); the goal is ≤ 1 GB RSS per worker with 1M tips of state. Prints progress every 100k;
stops feeding (and says so) once RSS passes 1.5 GiB.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_dedupe import _rss_bytes, synthetic_fields, synthetic_tip

from processors.dedupe import DedupeIndex, dedupe
from tipline.core.settings import Settings

TIPS = int(os.environ.get("BENCH_STATE_TIPS", "1000000"))
OBJECTS = int(os.environ.get("BENCH_STATE_OBJECTS", "50"))
PROBES = 20_000
STOP_RSS = int(1.5 * 2**30)  # a shared machine: stop well before the state could exhaust it
GEN0 = 50_000  # the worker's gc_gen0_threshold


class Pauses:
    """gc.callbacks timing every collection by generation."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.longest = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.process_time()
            return
        took = time.process_time() - self._start
        self.count[info["generation"]] += 1
        self.seconds[info["generation"]] += took
        self.longest = max(self.longest, took)


def full_pause() -> float:
    """CPU seconds of one full collection (CPU, not wall: the machine is shared)."""
    start = time.process_time()
    gc.collect()
    return time.process_time() - start


def probe(index: DedupeIndex, rng: random.Random, start: int, label: str) -> None:
    tips = [
        synthetic_tip(start + j, rng).model_copy(
            update={"object_ref": f"obj{rng.randrange(OBJECTS)}"}
        )
        for j in range(PROBES)
    ]
    pauses = Pauses()
    gc.callbacks.append(pauses)
    cpu = time.process_time()
    for tip in tips:
        dedupe(tip, index)
    cpu = time.process_time() - cpu
    gc.callbacks.remove(pauses)
    print(
        f"{label}: {PROBES} dedupe calls, {cpu / PROBES * 1e6:.0f} µs CPU per tip; collections "
        f"gen0/1/2 {pauses.count}, their pauses {[round(s * 1000) for s in pauses.seconds]} ms, "
        f"longest {pauses.longest * 1000:.0f} ms"
    )


def main() -> None:
    rng = random.Random(7)
    index = DedupeIndex.from_settings(Settings())
    rss0 = _rss_bytes()
    cpu = time.process_time()
    held = TIPS
    for i in range(TIPS):
        if i % 1000 == 0 and _rss_bytes() > STOP_RSS:
            held = i
            print(f"stopped at {i:,} tips: RSS past {STOP_RSS / 2**30:.1f} GiB (goal missed)")
            break
        fields = synthetic_fields(i, rng)
        fields = dataclasses.replace(fields, object_ref=f"obj{rng.randrange(OBJECTS)}")
        index.assign(fields)  # type: ignore[arg-type]
        if (i + 1) % 100_000 == 0:
            print(
                f"{i + 1:>9,} tips: RSS +{(_rss_bytes() - rss0) / 2**20:.0f} MiB "
                f"(total {_rss_bytes() / 2**20:.0f} MiB), "
                f"{(time.process_time() - cpu) / (i + 1) * 1e6:.0f} µs CPU per assign",
                flush=True,
            )
    stats = index.stats()
    print(f"state: {stats}")
    print(f"RSS with {held:,} tips of state: {_rss_bytes() / 2**20:.0f} MiB (goal ≤ 1024 MiB)")
    print(f"tracked objects: {len(gc.get_objects()):,}")
    print(f"full collection, state in view: {full_pause() * 1000:.0f} ms")
    probe(index, rng, TIPS, "state in the collector's view")
    gc.collect()
    gc.freeze()
    print(f"full collection after gc.freeze(): {full_pause() * 1000:.0f} ms")
    probe(index, rng, TIPS + PROBES, "after gc.freeze()")
    gc.set_threshold(GEN0, 10, 10)
    probe(index, rng, TIPS + 2 * PROBES, f"after gc.freeze(), gen0 threshold {GEN0:,}")


if __name__ == "__main__":
    main()
