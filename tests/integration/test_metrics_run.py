"""Every process of `tipline run` serves /metrics, /healthz and /readyz: counters grow at each
stage, lag rises while a worker is paused and returns to zero, and /readyz turns unready while
the broker or PostgreSQL is stopped (SIGSTOP of the real process) and ready again after."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import psycopg
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import wait_for
from tipline.embedded import free_port

API_KEY = "metrics-partner-key-0123456789abcdef"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:  # not listening (yet), or timed out
        return 0, ""


def metric(base: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples on one process, optionally filtered by labels."""
    _, text = get(f"{base}/metrics")
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def ready(base: str) -> bool:
    return get(f"{base}/readyz")[0] == 200


def post_tip(base: str, message_id: str, object_ref: str) -> None:
    body = {"message_id": message_id, "object_ref": object_ref, "body": "Bag from Lidl in Graz"}
    request = urllib.request.Request(
        f"{base}/api/tips",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def test_every_process_exports_metrics_lag_and_readiness() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-metrics-"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user
    kafka_port, web_port, smtp_port, review_port = (free_port() for _ in range(4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(data_dir),
        TIPLINE_EMBEDDED_KAFKA_PORT=str(kafka_port),
        TIPLINE_WEB_PORT=str(web_port),
        TIPLINE_SMTP_PORT=str(smtp_port),
        TIPLINE_REVIEW_PORT=str(review_port),
        TIPLINE_WEB_API_KEYS=json.dumps({"museum": API_KEY}),
        TIPLINE_WORKERS="2",
        TIPLINE_OPS_PORT="0",
    )
    console = data_dir / "run.log"
    with console.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "tipline", "run"], env=env, stdout=out, stderr=out
        )
    try:
        wait_for(lambda: "tipline is running" in console.read_text(), 120, "run banner")
        processes = json.loads((data_dir / "services.json").read_text())["processes"]
        assert set(processes) == {"worker-1", "worker-2", "web", "smtp", "review"}
        for base in processes.values():
            wait_for(lambda b=base: get(f"{b}/healthz")[0] == 200, 120, f"{base}/healthz")
        for base in processes.values():
            wait_for(lambda b=base: ready(b), 180, f"{base}/readyz")
        w1, w2 = processes["worker-1"], processes["worker-2"]
        web = f"http://127.0.0.1:{web_port}"

        # Worker 2 pauses; tips about many objects reach its partitions too: lag shows on the
        # group's partitions (worker 1 reads the group's offsets), then returns to zero.
        pid2 = int(re.search(r"worker-2\s+pid (\d+)", console.read_text()).group(1))  # type: ignore[union-attr]
        os.kill(pid2, signal.SIGSTOP)
        try:
            for i in range(30):
                post_tip(web, f"m{i}", object_ref=str(100 + i))
            wait_for(lambda: metric(w1, "tipline_consumer_lag") > 0, 30, "lag while paused")
        finally:
            os.kill(pid2, signal.SIGCONT)
        wait_for(lambda: metric(w1, "tipline_consumer_lag") == 0, 90, "lag back to zero")
        assert metric(w1, "tipline_high_water", topic="tips.raw") == 30

        mail = EmailMessage()
        mail["From"] = "someone@example.org"
        mail["To"] = "tips+7@localhost"
        mail["Subject"] = "Tasche"
        mail.set_content("Die Tasche gibt es bei Rossmann in Wien.")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(mail)

        # Counters at every stage, on the process that did the work.
        assert metric(web, "tipline_tips_accepted_total", channel="web") == 30
        assert metric(web, "tipline_intake_ack_seconds_count", channel="web") == 30
        base_smtp = processes["smtp"]
        wait_for(lambda: metric(base_smtp, "tipline_tips_accepted_total") == 1, 30, "smtp count")

        def stage(name: str) -> float:
            return metric(w1, name) + metric(w2, name)

        def stage_metric(name: str, **labels: str) -> float:
            return metric(w1, name, **labels) + metric(w2, name, **labels)

        def stage_tips(name: str, channel: str, outcome: str) -> float:
            return stage_metric(
                "tipline_stage_tips_total", stage=name, channel=channel, outcome=outcome
            )

        wait_for(lambda: stage("tipline_tips_stored_total") == 31, 60, "31 tips stored")
        assert stage("tipline_tips_cleaned_total") == 31
        assert stage("tipline_tips_triaged_total") == 31
        assert stage("tipline_dead_letters_total") == 0
        assert stage("tipline_sink_batch_size_sum") == 31
        assert stage("tipline_sink_commit_seconds_count") >= 1
        # In and out of every runner, by channel, from the one hook in the runner.
        for name in ("clean", "triage", "sink"):
            for outcome in ("in", "out"):
                assert stage_tips(name, "web", outcome) == 30, (name, outcome)
                assert stage_tips(name, "email", outcome) == 1, (name, outcome)
        # Every step's latency, under its own name.
        for step in (
            "normalise",
            "detect_language",
            "redact",
            "extract_evidence",
            "restore_dedupe",
            "dedupe",
            "score",
            "flag_urgent",
        ):
            assert stage_metric("tipline_stage_seconds_count", stage=step) >= 31, step
        assert stage("tipline_dedupe_objects") > 0  # state held (a rebalance may drop some)
        # The review app reports receipt → committed row from the database it reads.
        review = processes["review"]
        wait_for(lambda: metric(review, "tipline_rows_5m") == 31, 30, "rows in the last 5 min")
        assert metric(review, "tipline_intake_to_row_seconds", quantile="0.95") > 0

        # A record no stage can read: a dead letter, counted by stage and error class, and its
        # metadata recorded for the console's /ops page, with the lag samples.
        producer = KafkaProducer(bootstrap_servers=[f"127.0.0.1:{kafka_port}"], acks="all")
        producer.send("tips.raw", key=b"9", value=b"{not json").get(timeout=10)
        producer.close()
        wait_for(
            lambda: (
                stage_metric(
                    "tipline_dead_letters_by_reason_total", stage="decode", error="DecodeError"
                )
                + stage_metric(
                    "tipline_dead_letters_by_reason_total", stage="clean", error="DecodeError"
                )
                == 1
            ),
            60,
            "the dead letter counted by reason",
        )
        assert stage_tips("clean", "unknown", "dead") == 1
        database = json.loads((data_dir / "services.json").read_text())["database_url"]

        def recorded() -> tuple[int, int]:
            with psycopg.connect(database) as conn:
                lag_rows = conn.execute("SELECT count(*) FROM ops_lag").fetchone()
                letters = conn.execute(
                    "SELECT count(*) FROM dead_letter_log WHERE error = 'DecodeError'"
                ).fetchone()
            return (lag_rows[0] if lag_rows else 0, letters[0] if letters else 0)

        wait_for(lambda: recorded()[0] > 0 and recorded()[1] == 1, 60, "ops samples recorded")

        # `tipline status --once` reads the same endpoints.
        shown = subprocess.run(
            [sys.executable, "-m", "tipline", "status", "--once"],
            env={**env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for name in processes:
            assert name in shown
        assert "ready" in shown and "tips.raw" in shown

        # The broker stops answering: every broker-dependent process turns unready, then back.
        broker = subprocess.run(
            ["pgrep", "-f", f"listener-url tcp://127.0.0.1:{kafka_port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert len(broker) == 1
        os.kill(int(broker[0]), signal.SIGSTOP)
        try:
            for name in ("web", "smtp", "worker-1"):
                wait_for(lambda n=name: not ready(processes[n]), 20, f"{name} unready")
            assert ready(processes["review"])  # needs only the database
        finally:
            os.kill(int(broker[0]), signal.SIGCONT)
        for name in ("web", "smtp", "worker-1"):
            wait_for(lambda n=name: ready(processes[n]), 60, f"{name} ready again")

        # PostgreSQL's postmaster stops: no new connection, so the review app and workers
        # turn unready; the intake does not depend on it.
        postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGSTOP)
        try:
            for name in ("review", "worker-1"):
                wait_for(lambda n=name: not ready(processes[n]), 20, f"{name} unready")
            assert ready(processes["web"])
        finally:
            os.kill(postmaster, signal.SIGCONT)
        for name in ("review", "worker-1"):
            wait_for(lambda n=name: ready(processes[n]), 60, f"{name} ready again")
    finally:
        run.send_signal(signal.SIGINT)
        code = run.wait(timeout=90)
    assert code == 0, console.read_text()[-3000:]
