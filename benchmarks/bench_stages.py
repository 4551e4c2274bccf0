"""CPU per tip per stage: the real clean and triage flows (OfflinePipeline's step tuples) over the
end-to-end benchmark's tips, no broker. Reports CPU µs per tip per step (``time.process_time_ns``,
so the figure is not the other processes' time on a shared machine), plus the decode/encode cost
of the worker's edges (``model_validate_json`` / ``model_dump_json``).

``BENCH_TIPS`` tips (default 4000) after a warm-up of 300; ``BENCH_PROFILE=1`` prints a cProfile
of the whole run sorted by own time. The garbage collector is set up as the worker sets it
(``gc_freeze``, ``gc_gen0_threshold``); ``BENCH_GC_DEFAULT=1`` keeps Python's defaults.
"""

from __future__ import annotations

import cProfile
import gc
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_pipeline import SECRET, make_tips

from processors.flows import TriageState, clean_flow, default_lexicon, triage_flow
from processors.runtime.steps import AsyncStep, BatchStep, Flow, step_name
from processors.sender_key import SenderKeyer
from schemas import RawTip, ScoredTip, Tip
from tipline.core.metrics import Counters
from tipline.core.settings import Settings

N = int(os.environ.get("BENCH_TIPS", "4000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARM = 300


def run_flow(flow: Flow, value: Any, cpu: dict[str, int]) -> Any:
    for step in flow:
        start = time.process_time_ns()
        if isinstance(step, AsyncStep | BatchStep):
            coro = step.single.fn(value) if isinstance(step, BatchStep) else step.fn(value)
            try:
                coro.send(None)
            except StopIteration as stop:
                value = stop.value
            else:  # pragma: no cover - no store here, the restore never awaits
                raise RuntimeError("async step awaited I/O")
        else:
            value = step(value)
        name = step_name(step)
        cpu[name] = cpu.get(name, 0) + time.process_time_ns() - start
    return value


def main() -> None:
    settings = Settings()
    clean = clean_flow(SenderKeyer("k1", SECRET.encode()))
    state = TriageState.from_settings(settings, default_lexicon(settings), None, Counters())
    triage = triage_flow(state)
    raws = make_tips(WARM + N, seed=1)
    payloads = [r.model_dump_json().encode() for r in raws]
    for raw in raws[:WARM]:
        run_flow(triage, run_flow(clean, raw, {}), {})
    if settings.gc_freeze and not os.environ.get("BENCH_GC_DEFAULT"):
        # As the worker does after its warm-up (processors/app.py), so the figures are the
        # worker's (the difference was within the noise of the shared machine, 3 Dec).
        gc.collect()
        gc.freeze()
    if settings.gc_gen0_threshold and not os.environ.get("BENCH_GC_DEFAULT"):
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(settings.gc_gen0_threshold, gen1, gen2)
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    # The same tips in every round, each round with a fresh dedupe state, so rounds compare;
    # the figure kept is each stage's best round (a busy machine only ever adds time).
    best: dict[str, int] = {}
    for _ in range(ROUNDS):
        state = TriageState.from_settings(settings, default_lexicon(settings), None, Counters())
        triage = triage_flow(state)
        cpu = run_round(clean, triage, payloads[WARM:], profile)
        for name, ns in cpu.items():
            best[name] = min(best.get(name, ns), ns)
    for name, ns in best.items():
        if name != "total":
            print(f"{name:<20} {ns / N / 1000:8.1f} µs CPU per tip")
    print(
        f"{'total':<20} {best['total'] / N / 1000:8.1f} µs CPU per tip ({N} tips, best of {ROUNDS})"
    )
    if profile:
        stats = pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "tottime"))
        stats.print_stats(int(os.environ.get("BENCH_LINES", "35")))


def run_round(
    clean: Flow, triage: Flow, payloads: list[bytes], profile: cProfile.Profile | None
) -> dict[str, int]:
    cpu: dict[str, int] = {}
    if profile:
        profile.enable()
    total0 = time.process_time_ns()
    for data in payloads:
        t = time.process_time_ns()
        raw = RawTip.model_validate_json(data)
        cpu["decode"] = cpu.get("decode", 0) + time.process_time_ns() - t
        tip: Tip = run_flow(clean, raw, cpu)
        t = time.process_time_ns()
        tip = Tip.model_validate_json(tip.model_dump_json())
        cpu["tip encode+decode"] = cpu.get("tip encode+decode", 0) + time.process_time_ns() - t
        scored: ScoredTip = run_flow(triage, tip, cpu)
        t = time.process_time_ns()
        scored.model_dump_json()
        cpu["encode"] = cpu.get("encode", 0) + time.process_time_ns() - t
    cpu["total"] = time.process_time_ns() - total0
    if profile:
        profile.disable()
    return cpu


if __name__ == "__main__":
    main()
