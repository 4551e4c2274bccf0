"""Real services for integration tests: one embedded broker and PostgreSQL per session, and
per test its own topics (a unique prefix), its own database and its own worker process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from store.migrate import migrate
from tipline.core.settings import Settings
from tipline.core.topics import Topics, ensure_topics
from tipline.embedded import embedded_kafka, embedded_postgres

SECRET = "integration-test-sender-key-secret-0123456789"


@pytest.fixture(scope="session")
def broker_kind() -> str:
    """embedded: Tansu (default); apache: the 3-node Apache Kafka cluster (make test-kafka)."""
    kind = os.environ.get("TIPLINE_TEST_BROKER", "embedded")
    assert kind in ("embedded", "apache"), f"TIPLINE_TEST_BROKER={kind!r}: embedded or apache"
    return kind


@pytest.fixture(scope="session")
def kafka(broker_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if broker_kind == "apache":
        from tests.kafka.cluster import apache_cluster

        with apache_cluster(tmp_path_factory.mktemp("kafka-cluster")) as cluster:
            yield cluster.bootstrap
        return
    log_file = tmp_path_factory.mktemp("broker") / "broker.log"
    with embedded_kafka(log_file=log_file) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def replication(broker_kind: str) -> int:
    """Replicas per test topic: the Apache cluster has three brokers, Tansu one."""
    return 3 if broker_kind == "apache" else 1


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    # Not under pytest's 0700 tmp dirs: the server runs as its own system user (we are root in
    # CI), and pg_ctl must be able to reach its data directory to stop it cleanly.
    parent = Path(tempfile.mkdtemp(prefix="tipline-pg-"))
    parent.chmod(0o755)
    try:
        with embedded_postgres(parent / "data") as url:
            yield url
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated database for this test only."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(postgres_server, dbname=name)
    migrate(url)
    yield url


@pytest.fixture
def settings(kafka: str, replication: int, database_url: str, tmp_path: Path) -> Settings:
    """Settings for this test: its own topic prefix, consumer group and data dir."""
    tag = uuid.uuid4().hex[:8]
    resolved = Settings(
        kafka=kafka,
        database_url=database_url,  # type: ignore[arg-type]
        topic_prefix=f"t{tag}.",
        app_id=f"tipline-test-{tag}",
        data_dir=tmp_path / "data",
        partitions=6,
        sender_key_secret=SECRET,  # type: ignore[arg-type]
        sink_batch_size=200,
        sink_batch_seconds=0.2,
    )
    ensure_topics(kafka, Topics.from_settings(resolved), resolved.partitions, replication)
    return resolved


def settings_env(settings: Settings) -> dict[str, str]:
    assert settings.kafka and settings.database_url and settings.sender_key_secret
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_KAFKA=settings.kafka,
        TIPLINE_DATABASE_URL=settings.database_url.get_secret_value(),
        TIPLINE_TOPIC_PREFIX=settings.topic_prefix,
        TIPLINE_APP_ID=settings.app_id,
        TIPLINE_DATA_DIR=str(settings.data_dir),
        TIPLINE_PARTITIONS=str(settings.partitions),
        TIPLINE_SENDER_KEY_SECRET=settings.sender_key_secret.get_secret_value(),
        TIPLINE_SINK_BATCH_SIZE=str(settings.sink_batch_size),
        TIPLINE_SINK_BATCH_SECONDS=str(settings.sink_batch_seconds),
        TIPLINE_LOG_LEVEL="info",
        TIPLINE_METRICS_INTERVAL="1",
        TIPLINE_OPS_PORT="0",  # any free port: tests run side by side
    )
    return env


_STORED = re.compile(r"stored (\d+) new of (\d+) tips")
# faust's own line once every agent runs; a bare "Ready" would also match "NodeNotReadyError".
READY = "[^Worker]: Ready"


@dataclass
class Worker:
    """A real `tipline worker` process, as production runs it."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    def start(self, ready_timeout_s: float = 180) -> None:
        """Start the worker and wait for faust's Ready line. Loading the language models and
        joining the group took over 60 s on two busy cores, hence the generous default. A worker
        that is not ready in time is killed, not left running behind the failed test."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tipline", "worker"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.proc = proc
        self.starts += 1
        try:
            wait_for(
                lambda: READY in self.log()[offset:] or proc.poll() is not None,
                ready_timeout_s,
                "worker ready",
            )
        except BaseException:
            self.kill()
            raise
        assert proc.poll() is None, f"worker died on start:\n{self.log()[-3000:]}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def sink_seen(self) -> int:
        """How many scored tips the sink has handled (stored or found already stored)."""
        return sum(int(m.group(2)) for m in _STORED.finditer(self.log()))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[Worker]:
    handle = Worker(env=settings_env(settings), log_path=tmp_path / "worker.log")
    handle.start()
    yield handle
    handle.stop()


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def tipline_cli(*args: str, env: dict[str, str], timeout: float = 60) -> str:
    """Run `tipline ARGS…` as a user would (a new process) and return what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "tipline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return done.stdout


def count_rows(database_url: str, table: str = "tips") -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])
