"""The faust backend's eager wait_first: the same outcome as mode's, without tasks when the
first coroutine does not wait (processors/runtime/backends/faust.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from mode import Service
from mode.utils.locks import Event

from processors.runtime.backends.faust import (
    EXIT_CRASHED,
    assignment_if_built,
    create_app,
    wait_first_eager,
)


class _Counting(Service):
    """A service whose slow path counts its calls."""

    slow_calls = 0

    async def wait_first(self, *coros: Any, timeout: Any = None) -> Any:
        self.slow_calls += 1
        return await super().wait_first(*coros, timeout=timeout)


async def _value(x: int) -> int:
    return x


def test_a_callback_that_does_not_wait_runs_without_the_slow_path() -> None:
    asyncio.run(_a_callback_that_does_not_wait_runs_without_the_slow_path())


async def _a_callback_that_does_not_wait_runs_without_the_slow_path() -> None:
    service, suspended = _Counting(), Event()
    results = await wait_first_eager(
        service, suspended, service.wait_first, (_value(7), suspended.wait())
    )
    assert results.results == [7] and not results.stopped
    assert service.slow_calls == 0  # the unstarted suspended.wait() was closed, not awaited


def test_a_callback_that_waits_is_finished_with_its_result() -> None:
    asyncio.run(_a_callback_that_waits_is_finished_with_its_result())


async def _a_callback_that_waits_is_finished_with_its_result() -> None:
    service, suspended = _Counting(), Event()
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()
    seen: list[str] = []

    async def waits() -> int:
        seen.append("started")
        value = await fut
        await asyncio.sleep(0)  # a bare yield after the future, too
        seen.append("resumed")
        return value + 1

    loop.call_later(0.01, fut.set_result, 41)
    results = await wait_first_eager(
        service, suspended, service.wait_first, (waits(), suspended.wait())
    )
    assert seen == ["started", "resumed"]
    assert results.results[0] == 42 and service.slow_calls == 1


def test_a_suspended_flow_interrupts_a_waiting_callback() -> None:
    asyncio.run(_a_suspended_flow_interrupts_a_waiting_callback())


async def _a_suspended_flow_interrupts_a_waiting_callback() -> None:
    service, suspended = _Counting(), Event()
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    outcome: list[str] = []

    async def blocked() -> None:
        try:
            await never
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    loop.call_later(0.01, suspended.set)
    await wait_first_eager(service, suspended, service.wait_first, (blocked(), suspended.wait()))
    await asyncio.sleep(0.01)  # let the cancellation reach the callback
    assert outcome == ["cancelled"] and never.cancelled()


def test_an_error_in_the_callback_surfaces() -> None:
    asyncio.run(_an_error_in_the_callback_surfaces())


async def _an_error_in_the_callback_surfaces() -> None:
    service, suspended = _Counting(), Event()

    async def fails() -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        await wait_first_eager(service, suspended, service.wait_first, (fails(), suspended.wait()))


def test_nothing_runs_early_when_the_flow_is_already_suspended() -> None:
    asyncio.run(_nothing_runs_early_when_the_flow_is_already_suspended())


async def _nothing_runs_early_when_the_flow_is_already_suspended() -> None:
    service, suspended = _Counting(), Event()
    suspended.set()
    results = await wait_first_eager(
        service, suspended, service.wait_first, (_value(1), suspended.wait())
    )
    assert service.slow_calls == 1 and not results.stopped


def test_a_shutdown_that_hangs_still_ends_the_process() -> None:
    # mode's stop can wait for ever on a consumer thread that never started; the watchdog the
    # worker arms when shutdown begins ends the real process with the crash code anyway.
    script = (
        "import time\n"
        "from processors.runtime.backends.faust import EXIT_CRASHED, arm_exit_watchdog\n"
        "arm_exit_watchdog(0.3, EXIT_CRASHED)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], timeout=30, check=False)
    assert done.returncode == EXIT_CRASHED
    assert time.monotonic() - started < 20


def test_a_readiness_check_on_another_thread_never_builds_the_consumer() -> None:
    # app.consumer builds faust's consumer bound to the asking thread's event loop; asked first
    # from the ops server's thread, the consumer thread then failed to start.
    app = create_app("readiness-test", ["127.0.0.1:9"], fetch_max_wait_ms=100)
    seen: list[object] = []
    probe = threading.Thread(target=lambda: seen.append(assignment_if_built(app)))
    probe.start()
    probe.join(timeout=10)
    assert seen == [None]
    assert app._consumer is None
