"""A clean stop of `tipline run` loses nothing accepted, even with the worker paused: what the
workers could not store is spilled from the embedded broker and re-sent at the next start, and
dead letters survive the restart too."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kafka import KafkaProducer

from processors.sender_key import SPILLED_KEY_META
from tests.integration.conftest import tipline_cli as tipline
from tests.integration.conftest import wait_for
from tipline.embedded import free_port
from tipline.spill import Spilled

API_KEY = "restart-partner-key-0123456789abcdef"


def post_tip(base: str, message_id: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/tips",
        data=json.dumps(
            {
                "message_id": message_id,
                "object_ref": "7",
                "body": f"Bag from Lidl in Graz {message_id}",
            }
        ).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        tip_id: str = json.loads(response.read())["tip_id"]
        return tip_id


class Run:
    """One `tipline run` on a data dir, its console kept in a file per start."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env, self.data_dir, self.starts = env, data_dir, 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def console(self) -> Path:
        return self.data_dir / f"run-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with self.console.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tipline", "run"], env=self.env, stdout=out, stderr=out
            )
        wait_for(lambda: "tipline is running" in self.text(), 120, "run banner")
        worker_log = self.data_dir / "logs" / "worker-1.log"
        starts = self.starts
        wait_for(
            lambda: worker_log.read_text(errors="replace").count("[^Worker]: Ready") >= starts,
            90,
            "worker ready",
        )

    def text(self) -> str:
        return self.console.read_text(errors="replace")

    def worker_pid(self) -> int:
        found = re.search(r"worker-1\s+pid (\d+)", self.text())
        assert found
        return int(found.group(1))

    def stop(self) -> tuple[int, float]:
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=90)
        return code, time.monotonic() - started


def stored_ids(env: dict[str, str]) -> set[str]:
    out = tipline("psql", "-A", "-t", "-c", "SELECT tip_id FROM tips", env=env)
    return {line.strip() for line in out.splitlines() if line.strip()}


def test_tips_accepted_while_the_worker_is_paused_survive_a_stop_and_start() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-restart-"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user
    web_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(data_dir),
        TIPLINE_EMBEDDED_KAFKA_PORT=str(free_port()),
        TIPLINE_WEB_PORT=str(web_port),
        TIPLINE_WEB_API_KEYS=json.dumps({"museum": API_KEY}),
        TIPLINE_RUN_WITH='["web"]',
        TIPLINE_OPS_PORT="0",
        TIPLINE_STOP_DRAIN_SECONDS="3",
    )
    base = f"http://127.0.0.1:{web_port}"
    run = Run(env, data_dir)
    run.start()
    try:
        # Some tips flow through while everything runs.
        accepted = [post_tip(base, f"before-{i}") for i in range(3)]
        wait_for(lambda: set(accepted) <= stored_ids(env), 60, "the first tips stored")

        # The worker stops working; intake still accepts (the broker acknowledged each one).
        os.kill(run.worker_pid(), signal.SIGSTOP)
        accepted += [post_tip(base, f"paused-{i}") for i in range(20)]
        for i in range(5):
            out = tipline("submit", "--object", "7", f"Seen at Rossmann, Wien {i}", env=env)
            accepted.append(out.split()[-1])
        # A record no stage can read: it becomes a dead letter after the restart.
        kafka = json.loads((data_dir / "services.json").read_text())["kafka"]
        producer = KafkaProducer(bootstrap_servers=[kafka], acks="all")
        producer.send("tips.raw", key=b"7", value=b"{not json").get(timeout=10)
        producer.close()
        assert not set(accepted[3:]) & stored_ids(env)

        code, _ = run.stop()
        assert code == 0, run.text()[-3000:]
        assert "records for the next start" in run.text()
        spilled = list((data_dir / "spill").glob("spill-*.jsonl"))
        assert spilled
        raw_kept = 0
        for path in spilled:
            assert path.stat().st_mode & 0o777 == 0o600
            for line in path.read_text().splitlines():
                record = Spilled.parse(line)
                if record.topic != "tips.raw":
                    continue
                try:
                    meta = json.loads(record.value).get("channel_meta")
                except ValueError:
                    continue  # the record no stage can read, kept scrubbed
                # Only what the stages need: the derived sender key at most, no channel data.
                assert set(meta or {}) <= {SPILLED_KEY_META}, meta
                raw_kept += 1
        assert raw_kept >= 25  # the 25 tips accepted while the worker was paused

        run.start()
        assert "re-sent" in run.text()
        wait_for(lambda: set(accepted) <= stored_ids(env), 90, "every accepted tip stored")
        assert not list((data_dir / "spill").glob("spill-*.jsonl"))
        wait_for(
            lambda: (
                "decode" in tipline("dead", "list", env=env)
                or "clean" in tipline("dead", "list", env=env)
            ),
            60,
            "the dead letter listed",
        )

        # Idle now: the second stop is quick, and the dead letter is kept across it too.
        code, took = run.stop()
        assert code == 0, run.text()[-3000:]
        print(f"idle stop took {took:.1f}s")  # a figure for the report, not a timed assertion
        assert "records for the next start" in run.text()  # the dead letter
        run.start()
        wait_for(
            lambda: len(tipline("dead", "list", env=env).strip().splitlines()) == 1,
            60,
            "the dead letter still there after a second restart",
        )
        assert set(accepted) <= stored_ids(env)
    finally:
        if run.proc and run.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(run.worker_pid(), signal.SIGCONT)
            run.stop()
        for log in (data_dir / "logs").glob("*.log"):
            text = log.read_text(errors="replace")
            at = text.find("Traceback")
            # Show the traceback itself, not the whole log (pytest would print all of it).
            assert at < 0, f"{log.name}:\n{text[max(0, at - 1500) : at + 3000]}"
