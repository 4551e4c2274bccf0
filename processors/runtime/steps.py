"""Steps: what a flow is made of. A plain function ``T -> U``, an ``AsyncStep`` for I/O, or a
``BatchStep`` that does its I/O once for a whole batch.

Pure stages stay plain functions (``normalise``); state is bound at wiring time with
``functools.partial`` (``partial(dedupe, index=index)``). A step that must wait on a service
(restoring dedupe state from the database, later translation) is declared with ``async_step``,
so the runner awaits it and retries its ``TransientError`` with back-off.

A ``BatchStep`` (``batch_step``) prepares state for every record of a batch with one round trip
(restoring sender activity: one query per batch, not one per new sender). It only leads a flow —
it sees the decoded records before any other step runs, so it may read only what the decoder
gave — and it passes each record on unchanged. ``run_steps`` runs it on a batch of one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
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


@dataclass(frozen=True)
class BatchStep:
    """A leading step that prepares state for a batch of records at once; ``fn`` must be
    idempotent (a retried batch runs it again) and must not raise InvalidInputError (no one
    record is at fault): anything else it raises stops the batch like any bug."""

    fn: Callable[[Sequence[Any]], Awaitable[None]]
    name: str
    single: AsyncStep = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        async def one(value: Any) -> Any:
            await self.fn((value,))
            return value

        object.__setattr__(self, "single", AsyncStep(fn=one, name=self.name))


def batch_step(
    fn: Callable[[Sequence[Any]], Awaitable[None]], name: str | None = None
) -> BatchStep:
    return BatchStep(fn=fn, name=name or step_name(fn))


Step = Callable[[Any], Any] | AsyncStep | BatchStep
Flow = tuple[Step, ...]


def step_name(step: object) -> str:
    """'redact' for ``redact``, ``partial(redact, ...)`` and ``async_step(restore)`` alike."""
    if isinstance(step, AsyncStep | BatchStep):
        return step.name
    while isinstance(step, partial):
        step = step.func
    return str(getattr(step, "__name__", type(step).__name__))


@dataclass
class StepTimes:
    """Wall time spent in each step, for the benchmark's per-stage figures (ns, calls)."""

    totals: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, ns: int, calls: int = 1) -> None:
        """``ns`` spent on ``calls`` records (a batch step's time is spread over its batch)."""
        entry = self.totals.get(name)
        if entry is None:
            self.totals[name] = [ns, calls]
        else:
            entry[0] += ns
            entry[1] += calls

    def microseconds(self) -> dict[str, float]:
        return {name: ns / calls / 1000 for name, (ns, calls) in self.totals.items() if calls}


@dataclass(frozen=True, slots=True)
class TimedStep:
    """A step resolved once, when its flow is built: its name and where its latency goes, so
    the per-tip cost of the instrumentation is two clock reads and one histogram observation."""

    step: Step
    name: str
    observe: Callable[[float], None]
    # The step itself when it is a plain function, else None: ``run_timed`` tells the kinds
    # apart without two isinstance checks per step per record.
    plain: Callable[[Any], Any] | None = None


def _ignore(_seconds: float) -> None:
    return None


def timed(
    flow: Flow, observer: Callable[[str], Callable[[float], None]] | None = None
) -> tuple[TimedStep, ...]:
    """``flow`` with each step's name and ``observer(name)`` (a histogram child's ``observe``).
    Raises ValueError when a batch step follows a per-record step."""
    kinds = [isinstance(step, BatchStep) for step in flow]
    if any(kinds[kinds.index(False) :] if False in kinds else ()):
        raise ValueError("a batch step must lead its flow")
    return tuple(
        TimedStep(
            step,
            name,
            observer(name) if observer is not None else _ignore,
            None if isinstance(step, AsyncStep | BatchStep) else step,
        )
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
        plain = timed_step.plain
        start = clock()
        if plain is not None:
            value = plain(value)
        else:
            step = timed_step.step
            if isinstance(step, BatchStep):
                step = step.single
            assert isinstance(step, AsyncStep)
            value = await run_async(step, value)
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
