"""A worker whose consumer thread fails to start, and whose shutdown then hangs, still ends (with
the crash code, so the supervisor restarts it) instead of staying alive and never ready.

Seen in CI: mode's consumer thread failed to start ("Future attached to a different loop", a
start-up race in mode's ServiceThread) and stopping that thread waited for ever. Here a real
`tipline worker` process on the real broker and database gets both faults injected before it
starts; without the shutdown watchdog it never exits.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from processors.runtime.backends.faust import EXIT_CRASHED, SHUTDOWN_GRACE_S
from tests.integration.conftest import settings_env
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration

FAULTS = """
import asyncio, sys
from processors.runtime.backends import faust as backend

async def start(self):
    raise RuntimeError("injected: consumer thread start future attached to a different loop")

async def stop(self):
    await asyncio.Event().wait()  # what stopping the half-started thread did: wait for ever

backend._ConsumerThread.start = start
backend._ConsumerThread.stop = stop
sys.argv = ["tipline", "worker"]
from tipline.cli import main
main()
"""


def test_a_worker_that_cannot_start_or_stop_still_exits(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", FAULTS], env=settings_env(settings), stdout=out, stderr=out
        )
    try:
        # Model loading takes seconds to a minute on a busy machine, then the grace period.
        code = proc.wait(timeout=180 + SHUTDOWN_GRACE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text(errors="replace")
    assert "injected: consumer thread start" in text
    assert code == EXIT_CRASHED, text[-2000:]
    assert "worker crashed; it exits within" in text
    assert time.monotonic() - started < 180 + SHUTDOWN_GRACE_S
