"""`tipline run` on embedded services, then `tipline submit` and `tipline queue` from outside:
the README's first-tip walk-through, end to end."""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from tests.integration.conftest import tipline_cli as tipline
from tests.integration.conftest import wait_for
from tipline.embedded import free_port

API_KEY = "museum-partner-key-0123456789abcdef"


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return None


def post_json(url: str, body: dict[str, str]) -> object:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return json.loads(response.read())


def test_run_submit_queue_and_clean_stop() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-run-"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    web_port, smtp_port, review_port = free_port(), free_port(), free_port()
    env.update(
        TIPLINE_SMTP_PORT=str(smtp_port),
        TIPLINE_REVIEW_PORT=str(review_port),
        TIPLINE_DATA_DIR=str(data_dir),
        TIPLINE_EMBEDDED_KAFKA_PORT=str(free_port()),
        TIPLINE_WEB_PORT=str(web_port),
        TIPLINE_WEB_API_KEYS=json.dumps({"museum": API_KEY}),
    )
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

        # The web intake runs beside the workers: its form page answers, and a partner's tip
        # sent over HTTP reaches the queue too.
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: http_status(f"{base}/healthz") == 200, 30, "the web intake")
        page = urllib.request.urlopen(f"{base}/objects/7", timeout=5)
        assert page.status == 200 and b"<form" in page.read()
        receipt = post_json(
            f"{base}/api/tips",
            {"message_id": "m1", "object_ref": "7", "body": "Ta torba jest z Biedronki w Krakowie"},
        )
        # Keyed (ingest/tip_ids.py): the partner's message id does not lead to the tip.
        assert receipt["status"] == "accepted" and receipt["tip_id"].startswith("p-museum-")
        partner_tip = receipt["tip_id"]
        wait_for(
            lambda: partner_tip in tipline("queue", "--object", "7", env=env),
            60,
            "the partner's tip in the analyst queue",
        )

        # E-mail to tips+7@ over SMTP reaches the queue as well.
        wait_for(lambda: port_open(smtp_port), 30, "the SMTP receiver")
        mail = EmailMessage()
        mail["From"] = "Anna Example <anna@example.org>"
        mail["To"] = "tips+7@localhost"
        mail["Subject"] = "Die Tasche"
        mail["Message-ID"] = "<run-test-1@example.org>"
        mail.set_content("Die Tasche gibt es bei Rossmann in Wien.\n\nViele Grüße\nAnna")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(mail)
        wait_for(
            lambda: "Rossmann" in tipline("queue", "--object", "7", env=env),
            60,
            "the e-mailed tip in the analyst queue",
        )

        # No trace of the sender, their name, or the mail headers anywhere in the database.
        everything = tipline("psql", "-A", "-t", "-c", "SELECT t::text FROM tips t", env=env)
        assert "Rossmann" in everything
        for trace in ("anna@example.org", "Anna", "run-test-1@example.org", "Message-ID"):
            assert trace not in everything

        # The review app runs with a local analyst token kept under the data dir.
        token = (data_dir / "review.token").read_text().strip()
        review = f"http://127.0.0.1:{review_port}"
        wait_for(lambda: http_status(f"{review}/healthz") == 200, 30, "the review app")
        request = urllib.request.Request(
            f"{review}/api/queue?object=7", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            listed = json.dumps(json.loads(response.read()))
        assert partner_tip in listed and "anna@example.org" not in listed
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


def _run_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_DATA_DIR=str(data_dir),
        TIPLINE_EMBEDDED_KAFKA_PORT=str(free_port()),
        TIPLINE_WEB_PORT=str(free_port()),
        TIPLINE_SMTP_PORT=str(free_port()),
        TIPLINE_REVIEW_PORT=str(free_port()),
        TIPLINE_OPS_PORT="0",
        **extra,
    )
    return env


def test_a_taken_port_is_a_clear_error_before_anything_starts(tmp_path: Path) -> None:
    env = _run_env(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", int(env["TIPLINE_WEB_PORT"])))
        squatter.listen()
        done = subprocess.run(
            [sys.executable, "-m", "tipline", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert f"web intake 127.0.0.1:{env['TIPLINE_WEB_PORT']}" in done.stderr
    assert "port already in use" in done.stderr
    assert "tipline is running" not in done.stdout
    assert not (tmp_path / "postgres").exists()  # nothing was started


def test_the_embedded_broker_refuses_a_taken_port() -> None:
    from tipline.core.errors import ConfigurationError
    from tipline.embedded import embedded_kafka

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        try:
            with embedded_kafka(port):
                raise AssertionError("joined whatever listens on the port")
        except ConfigurationError as exc:
            assert f"port {port} is already in use" in str(exc)


def test_a_child_that_exits_at_once_is_restarted_with_back_off_and_its_error_shown() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-run-"))
    data_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own user
    # IMAP without a server configured: the poller exits at once with a configuration error.
    env = _run_env(data_dir, TIPLINE_RUN_WITH='["imap"]')
    console = data_dir / "run.log"
    with console.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "tipline", "run"], env=env, stdout=out, stderr=out
        )
    try:
        wait_for(lambda: console.read_text().count("imap exited with code") >= 3, 120, "restarts")
        text = console.read_text()
        assert "imap_host" in text  # the child's own error line, on the console
        delays = [
            int(d) for d in re.findall(r"imap exited with code \d+ .*restarting in (\d+)s", text)
        ]
        assert delays[:3] == [1, 2, 4]  # back-off doubles
    finally:
        run.send_signal(signal.SIGINT)
        code = run.wait(timeout=60)
    assert code == 0, console.read_text()[-3000:]
