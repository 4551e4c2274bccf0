"""Steps: what a flow is made of. A plain function ``T -> U``, or an ``AsyncStep`` for I/O.

Pure stages stay plain functions (``normalise``); state is bound at wiring time with
``functools.partial`` (``partial(dedupe, index=index)``). A step that must wait on a service
(restoring dedupe state from the database, later translation) is declared with ``async_step``,
so the runner awaits it and retries its ``TransientError`` with back-off.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any


@dataclass(frozen=True)
class AsyncStep:
    """A step that awaits I/O. ``fn`` must be idempotent: a retried batch runs it again."""

    fn: Callable[[Any], Awaitable[Any]]
    name: str


def async_step(fn: Callable[[Any], Awaitable[Any]], name: str | None = None) -> AsyncStep:
    return AsyncStep(fn=fn, name=name or step_name(fn))


Step = Callable[[Any], Any] | AsyncStep
Flow = tuple[Step, ...]


def step_name(step: object) -> str:
    """'redact' for ``redact``, ``partial(redact, ...)`` and ``async_step(restore)`` alike."""
    if isinstance(step, AsyncStep):
        return step.name
    while isinstance(step, partial):
        step = step.func
    return str(getattr(step, "__name__", type(step).__name__))


@dataclass
class StepTimes:
    """Wall time spent in each step, for the benchmark's per-stage figures (ns, calls)."""

    totals: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, ns: int) -> None:
        entry = self.totals.get(name)
        if entry is None:
            self.totals[name] = [ns, 1]
        else:
            entry[0] += ns
            entry[1] += 1

    def microseconds(self) -> dict[str, float]:
        return {name: ns / calls / 1000 for name, (ns, calls) in self.totals.items() if calls}


@dataclass(frozen=True, slots=True)
class TimedStep:
    """A step resolved once, when its flow is built: its name and where its latency goes, so
    the per-tip cost of the instrumentation is two clock reads and one histogram observation."""

    step: Step
    name: str
    observe: Callable[[float], None]


def _ignore(_seconds: float) -> None:
    return None


def timed(
    flow: Flow, observer: Callable[[str], Callable[[float], None]] | None = None
) -> tuple[TimedStep, ...]:
    """``flow`` with each step's name and ``observer(name)`` (a histogram child's ``observe``)."""
    return tuple(
        TimedStep(step, name, observer(name) if observer is not None else _ignore)
        for step, name in ((step, step_name(step)) for step in flow)
    )


async def run_timed(
    steps: tuple[TimedStep, ...],
    value: Any,
    times: StepTimes | None,
    run_async: Callable[[AsyncStep, Any], Awaitable[Any]],
) -> Any:
    """Feed ``value`` through ``steps``, observing each step's wall time; async steps go
    through ``run_async`` (the retry policy), whose waits on a service are part of its time."""
    clock = time.perf_counter_ns
    for timed_step in steps:
        step = timed_step.step
        start = clock()
        if isinstance(step, AsyncStep):
            value = await run_async(step, value)
        else:
            value = step(value)
        ns = clock() - start
        timed_step.observe(ns / 1e9)
        if times is not None:
            times.add(timed_step.name, ns)
    return value


async def run_steps(
    flow: Flow,
    value: Any,
    times: StepTimes | None,
    run_async: Callable[[AsyncStep, Any], Awaitable[Any]],
) -> Any:
    """Feed ``value`` through ``flow``; async steps go through ``run_async`` (retry policy)."""
    return await run_timed(timed(flow), value, times, run_async)
