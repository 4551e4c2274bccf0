"""/readyz asked from the very start of a real `tipline worker` never breaks the worker.

The readiness check runs on the ops server's thread. It used to read ``app.consumer``, which
builds faust's consumer on first use, bound to the event loop of the thread that asks: when a
probe came before the worker had built it, the consumer thread failed to start ("Future attached
to a different loop") and the worker never became ready (seen twice in CI, in
test_metrics_run.py, whose probes start as soon as /healthz answers).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.conftest import READY, settings_env, wait_for
from tipline.core.settings import Settings
from tipline.embedded import free_port

pytestmark = pytest.mark.integration


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def test_readiness_probes_from_the_first_moment_do_not_break_the_worker(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = settings_env(settings) | {"TIPLINE_OPS_PORT": str(port)}
    log = tmp_path / "worker.log"
    stop = threading.Event()
    answers: list[int] = []

    def probe() -> None:  # as a load balancer or the test harness does, without pause
        while not stop.is_set():
            answers.append(_status(f"http://127.0.0.1:{port}/readyz"))
            time.sleep(0.002)

    prober = threading.Thread(target=probe, daemon=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tipline", "worker"], env=env, stdout=out, stderr=out
        )
    prober.start()
    try:
        text = wait_for(
            lambda: (t := log.read_text(errors="replace")) and (READY in t or "Error" in t) and t,
            180,
            "worker ready or failed",
        )
        assert "attached to a different loop" not in text
        assert READY in text, text[-2000:]
        wait_for(lambda: answers and answers[-1] == 200, 60, "/readyz 200")
    finally:
        stop.set()
        prober.join(timeout=5)
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert 503 in answers  # probed while starting, not only once ready
