"""`tipline run` on embedded services, then `tipline submit` and `tipline queue` from outside:
the README's first-tip walk-through, end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.integration.conftest import wait_for
from tipline.embedded import free_port


def tipline(*args: str, env: dict[str, str], timeout: float = 60) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tipline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


def test_run_submit_queue_and_clean_stop() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-run-"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(TIPLINE_DATA_DIR=str(data_dir), TIPLINE_EMBEDDED_KAFKA_PORT=str(free_port()))
    log = (data_dir / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "tipline", "run"], env=env, stdout=log, stderr=log
    )
    try:
        wait_for(
            lambda: "tipline is running" in (data_dir / "run.log").read_text(), 90, "run banner"
        )
        out = tipline("submit", "--object", "7", "Saw this bag in a Lidl in Graz", env=env)
        tip_id = out.split()[-1]
        assert tip_id.startswith("cli-")

        def queued() -> bool:
            return tip_id in tipline("queue", "--object", "7", env=env)

        wait_for(queued, 60, "the tip in the analyst queue")
    finally:
        run.send_signal(signal.SIGTERM)
        code = run.wait(timeout=60)
        log.close()
    assert code == 0, (data_dir / "run.log").read_text()[-3000:]
    assert not (data_dir / "services.json").exists()
    leftover = subprocess.run(
        ["pgrep", "-f", str(data_dir)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout.strip() == "", "a service outlived `tipline run`"
