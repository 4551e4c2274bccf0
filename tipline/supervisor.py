"""`tipline run`: start the services (embedded where unconfigured), the workers, and stop
everything cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from review.migrate import migrate
from tipline import services
from tipline.embedded import embedded_kafka, embedded_postgres
from tipline.settings import Settings
from tipline.topics import Topics, ensure_topics

log = logging.getLogger(__name__)

_RESTART_DELAY_S = 2.0
REVIEW_TOKEN_FILE = "review.token"  # noqa: S105 - a file name
REVIEW_PASSWORD_FILE = "review.password"  # noqa: S105 - a file name
LOCAL_ANALYST = "analyst"


@dataclass
class Child:
    """A supervised process: restarted if it dies while the pipeline is running."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.command, env=self.env, stdout=out, stderr=out)
        out.close()

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def child_env(settings: Settings, secret: bytes) -> dict[str, str]:
    """The parent's environment plus the resolved services, for a child `tipline` process."""
    assert settings.kafka and settings.database_url
    env = dict(os.environ)
    env.update(
        {
            "TIPLINE_KAFKA": settings.kafka,
            "TIPLINE_DATABASE_URL": settings.database_url.get_secret_value(),
            "TIPLINE_SENDER_KEY_SECRET": secret.decode(),
            "TIPLINE_DATA_DIR": str(settings.data_dir.resolve()),
        }
    )
    return env


def start_services(settings: Settings, stack: ExitStack) -> Settings:
    """Start embedded services where none is configured; returns resolved settings."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    kafka = settings.kafka or stack.enter_context(
        embedded_kafka(settings.embedded_kafka_port, log_file=data_dir / "broker.log")
    )
    if settings.database_url:
        database_url = settings.database_url.get_secret_value()
    else:
        database_url = stack.enter_context(embedded_postgres(data_dir / "postgres"))
    from pydantic import SecretStr

    resolved = settings.model_copy(update={"kafka": kafka, "database_url": SecretStr(database_url)})
    ensure_topics(
        kafka, Topics.from_settings(resolved), resolved.partitions, resolved.replication_factor
    )
    migrate(database_url)
    return resolved


def run(settings: Settings, extra_children: list[tuple[str, list[str]]] | None = None) -> int:
    """Run the whole pipeline until SIGINT/SIGTERM; returns the exit code."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ExitStack() as stack:
        resolved = start_services(settings, stack)
        secret = services.sender_key_secret(resolved)
        services.write_run_file(
            resolved,
            resolved.kafka or "",
            resolved.database_url.get_secret_value(),  # type: ignore[union-attr]
        )
        stack.callback(services.remove_run_file, resolved)
        env = child_env(resolved, secret)
        if "review" in resolved.run_with and not resolved.review_tokens:
            # A local run with no analysts configured gets one, so the review app can start;
            # its token is kept under data_dir and named in the banner.
            env["TIPLINE_REVIEW_TOKENS"] = json.dumps(
                {"analyst": services.local_secret(resolved, REVIEW_TOKEN_FILE)}
            )
            env.setdefault("TIPLINE_REVIEW_SECURE_COOKIES", "false")  # plain http on loopback
            _local_account(resolved)
        logs = resolved.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        python = [sys.executable, "-m", "tipline"]
        children = [
            Child(f"worker-{i}", [*python, "worker"], env, logs / f"worker-{i}.log")
            for i in range(1, resolved.workers + 1)
        ]
        children += [
            Child(name, [*python, *args], env, logs / f"{name}.log")
            for name, args in (extra_children or [])
        ]
        for child in children:
            child.start()
            stack.callback(child.stop)
        print_banner(resolved, children)
        while not stop.wait(0.5):
            for child in children:
                if child.proc is not None and child.proc.poll() is not None:
                    log.error(
                        "%s exited with code %s; restarting", child.name, child.proc.returncode
                    )
                    time.sleep(_RESTART_DELAY_S)
                    child.restarts += 1
                    child.start()
        print("\nstopping tipline …", flush=True)
    return 0


def _local_account(settings: Settings) -> None:
    """A local run gets one console account (a supervisor, to see every page) whose generated
    password is kept (0600) under data_dir, unless accounts exist already."""
    from review import accounts

    assert settings.database_url
    url = settings.database_url.get_secret_value()
    if not accounts.list_all(url):
        password = services.local_secret(settings, REVIEW_PASSWORD_FILE)
        accounts.add(url, LOCAL_ANALYST, "supervisor", password)


def print_banner(settings: Settings, children: list[Child]) -> None:
    topics = Topics.from_settings(settings)
    db = settings.database_url.get_secret_value() if settings.database_url else "?"
    lines = [
        "tipline is running",
        f"  Kafka broker      {settings.kafka}",
        f"  topics            {', '.join(topics.all())} ({settings.partitions} partitions)",
        f"  PostgreSQL        {db}",
        *(
            f"  {c.name:<17} pid {c.proc.pid if c.proc else '?'}, log {c.log_path}"
            for c in children
        ),
        "",
        '  send a tip:       .venv/bin/tipline submit --object 7 "Saw this bag in a Lidl in Graz"',
        "  see the queue:    .venv/bin/tipline queue",
        *(
            [f"  tip form:         http://{settings.web_host}:{settings.web_port}/objects/7"]
            if "web" in settings.run_with
            else []
        ),
        *(
            [
                f"  review app:       http://{settings.review_host}:{settings.review_port}/queue"
                f" (sign in as {LOCAL_ANALYST}, password in"
                f" {settings.data_dir / REVIEW_PASSWORD_FILE}; scripts' token in"
                f" {settings.data_dir / REVIEW_TOKEN_FILE})"
            ]
            if "review" in settings.run_with and not settings.review_tokens
            else []
        ),
        *(
            [f"  e-mail intake:    smtp://{settings.smtp_host}:{settings.smtp_port}"]
            if "smtp" in settings.run_with
            else []
        ),
        "  stop:             Ctrl-C",
    ]
    print("\n".join(lines), flush=True)
