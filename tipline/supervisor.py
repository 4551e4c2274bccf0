"""`tipline run`: start the services (embedded where unconfigured), the workers and the intake,
keep them running, and stop everything without losing an accepted tip.

Start: every port is checked before anything starts (a taken port is an error before any
banner); embedded services start, spilled records of the last stop are re-sent, then the
workers, then the intake. A child that dies is restarted with back-off (1 s doubling to 30 s,
reset after 30 s of life) and the last lines of its log are printed on the console.

Stop (SIGINT/SIGTERM; children run in their own process groups so a terminal's Ctrl-C reaches
only this process, which then stops them in order):

1. intake first: the web intake answers 503 + Retry-After (SIGUSR1), the pollers stop;
2. the workers drain what is in flight into the database (lag zero, at most
   TIPLINE_STOP_DRAIN_SECONDS; a stopped or stuck worker is not waited for);
3. the web intake, the review app and the workers stop (SIGTERM);
4. on the embedded broker, whatever is still uncommitted, and the dead letters, are spilled to
   data_dir/spill (tipline/spill.py) for the next start;
5. the broker, then PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from processors.sender_key import SenderKeyer
from store.migrate import migrate
from tipline import services, spill
from tipline.core.errors import ConfigurationError
from tipline.core.security import database_conninfo, kafka_python_options
from tipline.core.settings import Settings
from tipline.core.topics import Topics, ensure_topics
from tipline.embedded import embedded_kafka, embedded_postgres, free_port
from tipline.lag import consumer_lag, total

log = logging.getLogger(__name__)

REVIEW_TOKEN_FILE = "review.token"  # noqa: S105 - a file name
REVIEW_PASSWORD_FILE = "review.password"  # noqa: S105 - a file name
LOCAL_ANALYST = "analyst"
INTAKE = ("web", "smtp", "imap", "mastodon")
POLLERS = ("smtp", "imap", "mastodon")  # no web port of their own: they get an ops port
_FIRST_DELAY_S = 1.0
_MAX_DELAY_S = 30.0
_HEALTHY_AFTER_S = 30.0
_TAIL_LINES = 6


@dataclass
class Child:
    """A supervised process: restarted with back-off if it dies while the pipeline runs."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    ops_url: str | None = None
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    log_offset: int = 0
    delay_s: float = _FIRST_DELAY_S
    restart_at: float | None = field(default=None)

    def start(self) -> None:
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        out = self.log_path.open("ab")
        # Its own process group: a terminal's Ctrl-C must reach only the supervisor, which
        # stops the children in order (a worker must not lose its broker mid-batch).
        self.proc = subprocess.Popen(
            self.command, env=self.env, stdout=out, stderr=out, process_group=0
        )
        out.close()
        self.started_at = time.monotonic()
        self.restart_at = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def paused(self) -> bool:
        """Stopped by SIGSTOP (or a debugger): it will not drain anything."""
        if not self.running():
            return False
        assert self.proc is not None
        try:
            stat = Path(f"/proc/{self.proc.pid}/stat").read_text()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[0] in ("T", "t")

    def signal(self, signum: int) -> None:
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(signum)

    def wait(self, timeout_s: float) -> None:
        """Wait for the exit; kill after ``timeout_s``."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", self.name, timeout_s)
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self.running():
            return
        self.signal(signal.SIGTERM)
        self.signal(signal.SIGCONT)  # a paused process must run to handle its SIGTERM
        self.wait(timeout_s)

    def tail(self) -> list[str]:
        """The last lines this run of the child wrote to its log."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self.log_offset)
                text = f.read()[-20_000:].decode(errors="replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()][-_TAIL_LINES:]


def check_ports(ports: Iterable[tuple[str, str, int]]) -> None:
    """Raise ConfigurationError naming every (what, host, port) that cannot be bound now."""
    taken = []
    for what, host, port in ports:
        if port == 0:
            continue
        with socket.socket() as sock:
            # uvicorn and the broker set SO_REUSEADDR too: only a live listener fails this.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                taken.append(f"{what} {host}:{port} ({exc.strerror or exc})")
    if taken:
        raise ConfigurationError(
            "port already in use: "
            + "; ".join(taken)
            + " (another tipline running? stop it or set the TIPLINE_*_PORT settings)"
        )


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
            # As chosen by pick_ports (a 0 in the parent's environment is resolved here).
            "TIPLINE_WEB_PORT": str(settings.web_port),
            "TIPLINE_REVIEW_PORT": str(settings.review_port),
            "TIPLINE_SMTP_PORT": str(settings.smtp_port),
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
        kafka,
        Topics.from_settings(resolved),
        resolved.partitions,
        resolved.replication_factor,
        **kafka_python_options(resolved),
    )
    migrate(database_conninfo(resolved))
    if not settings.kafka:
        resent = spill.restore(kafka, data_dir / spill.SPILL_DIR)
        if resent:
            print(f"re-sent {resent} records kept at the last stop", flush=True)
    return resolved


def planned_ports(settings: Settings) -> tuple[list[tuple[str, str, int]], dict[str, int]]:
    """The ports `tipline run` will listen on, and each ops-port child's port."""
    ports: list[tuple[str, str, int]] = []
    if not settings.kafka:
        ports.append(("embedded broker", "127.0.0.1", settings.embedded_kafka_port))
    if "web" in settings.run_with:
        ports.append(("web intake", settings.web_host, settings.web_port))
    if "review" in settings.run_with:
        ports.append(("review app", settings.review_host, settings.review_port))
    if "smtp" in settings.run_with:
        ports.append(("SMTP receiver", settings.smtp_host, settings.smtp_port))
    names = [f"worker-{i}" for i in range(1, settings.workers + 1)]
    names += [name for name in settings.run_with if name in POLLERS]
    ops: dict[str, int] = {}
    for i, name in enumerate(names):
        ops[name] = free_port() if settings.ops_port == 0 else settings.ops_port + i
        ports.append((f"{name} ops", settings.ops_host, ops[name]))
    return ports, ops


def _ops_url(settings: Settings, name: str, ops: dict[str, int]) -> str | None:
    if name in ops:
        return f"http://{settings.ops_host}:{ops[name]}"
    if name == "web":
        return f"http://{settings.web_host}:{settings.web_port}"
    if name == "review":
        return f"http://{settings.review_host}:{settings.review_port}"
    return None


class Stopper:
    """The stop signal: the first SIGINT/SIGTERM starts a lossless stop, the second hurries."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.hurry = threading.Event()

    def install(self) -> None:
        def on_signal(*_: object) -> None:
            if self.stop.is_set():
                self.hurry.set()
            self.stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, on_signal)


def pick_ports(settings: Settings) -> Settings:
    """Port 0 ("any free port") chosen here, once, for the listeners the banner names and the
    children are told: each child choosing its own would leave the banner saying ":0"."""
    update = {
        name: free_port()
        for name in ("web_port", "review_port", "smtp_port")
        if getattr(settings, name) == 0
    }
    return settings.model_copy(update=update) if update else settings


def run(settings: Settings, extra_children: list[tuple[str, list[str]]] | None = None) -> int:
    """Run the whole pipeline until SIGINT/SIGTERM; returns the exit code."""
    stopper = Stopper()
    stopper.install()
    settings = pick_ports(settings)
    ports, ops = planned_ports(settings)
    check_ports(ports)
    with ExitStack() as stack:
        resolved = start_services(settings, stack)
        secret = services.sender_key_secret(resolved)
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
        specs = [(f"worker-{i}", ["worker"]) for i in range(1, resolved.workers + 1)]
        specs += extra_children or []
        children = []
        for name, args in specs:
            child_env_ = dict(env)
            if name in ops:
                child_env_["TIPLINE_OPS_PORT"] = str(ops[name])
            children.append(
                Child(
                    name,
                    [*python, *args],
                    child_env_,
                    logs / f"{name}.log",
                    ops_url=_ops_url(resolved, name, ops),
                )
            )
        services.write_run_file(
            resolved,
            resolved.kafka or "",
            resolved.database_url.get_secret_value(),  # type: ignore[union-attr]
            processes={c.name: c.ops_url for c in children if c.ops_url},
        )
        stack.callback(services.remove_run_file, resolved)
        spill_dir = None if settings.kafka else resolved.data_dir / spill.SPILL_DIR
        ok = False
        try:
            for child in children:
                child.start()
            print_banner(resolved, children)
            supervise(children, stopper.stop)
            print("\nstopping tipline …", flush=True)
        finally:
            ok = stop_children(resolved, children, stopper.hurry, spill_dir=spill_dir)
            services_from = time.monotonic()
    log.info("stop: broker and database stopped in %.1fs", time.monotonic() - services_from)
    print("tipline stopped", flush=True)
    return 0 if ok else 1


def supervise(children: list[Child], stop: threading.Event) -> None:
    """Restart children that exit, with back-off, until ``stop`` is set."""
    while not stop.wait(0.2):
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    child.start()
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            lived = now - child.started_at
            if lived >= _HEALTHY_AFTER_S:
                child.delay_s = _FIRST_DELAY_S
            lines = [
                f"{child.name} exited with code {child.proc.returncode} after {lived:.1f}s; "
                f"restarting in {child.delay_s:.0f}s. Last lines of {child.log_path}:",
                *(f"  | {line}" for line in child.tail()),
            ]
            print("\n".join(lines), file=sys.stderr, flush=True)
            child.restart_at = now + child.delay_s
            child.delay_s = min(child.delay_s * 2, _MAX_DELAY_S)


def stop_children(
    settings: Settings, children: list[Child], hurry: threading.Event, *, spill_dir: Path | None
) -> bool:
    """The ordered, lossless stop (module docstring); the services stop after this returns.
    ``spill_dir`` is set when the broker is the embedded one. False if the spill failed."""
    started = time.monotonic()
    by_kind = {
        "web": [c for c in children if c.name == "web"],
        "pollers": [c for c in children if c.name in POLLERS],
        "workers": [c for c in children if c.name.startswith("worker-")],
    }
    kinds = {c.name for group in by_kind.values() for c in group}
    rest = [c for c in children if c.name not in kinds]
    for child in by_kind["web"]:
        child.signal(signal.SIGUSR1)  # new requests: 503 + Retry-After
    for child in by_kind["pollers"]:
        child.signal(signal.SIGTERM)
    for child in by_kind["pollers"]:
        child.wait(10)
    log.info("stop: intake refused or stopped after %.1fs", time.monotonic() - started)
    drain(settings, by_kind["workers"], hurry)
    log.info("stop: drained after %.1fs", time.monotonic() - started)
    for child in by_kind["web"] + rest:
        child.signal(signal.SIGTERM)
    for child in by_kind["web"] + rest:
        child.wait(10)
    log.info("stop: web and review stopped after %.1fs", time.monotonic() - started)
    for child in by_kind["workers"]:
        child.signal(signal.SIGTERM)
        child.signal(signal.SIGCONT)
    for child in by_kind["workers"]:
        child.wait(15)
    log.info("children stopped in %.1fs", time.monotonic() - started)
    if spill_dir is None:
        return True
    assert settings.kafka
    try:
        before = time.monotonic()
        kept = spill.spill(
            settings.kafka,
            Topics.from_settings(settings),
            settings.app_id,
            spill_dir,
            timedelta(days=settings.dead_letter_retention_days),
            sender_keys=SenderKeyer(settings.sender_key_id, services.sender_key_secret(settings)),
        )
    except Exception:
        log.exception("could not spill the embedded broker's records: they are lost")
        return False
    log.info("stop: spill took %.1fs", time.monotonic() - before)
    if kept:
        print(f"kept {kept} records for the next start in {spill_dir}", flush=True)
    return True


def drain(settings: Settings, workers: list[Child], hurry: threading.Event) -> None:
    """Wait until the workers' group has committed everything, within the drain budget."""
    assert settings.kafka
    topics = Topics.from_settings(settings)
    deadline = time.monotonic() + settings.stop_drain_seconds
    lag = -1
    while time.monotonic() < deadline and not hurry.is_set():
        if not any(w.running() and not w.paused() for w in workers):
            print("no worker is running to drain the lag: what is left is kept", flush=True)
            return
        try:
            lags = consumer_lag(
                settings.kafka,
                settings.app_id,
                (topics.raw, topics.clean, topics.scored),
                2.0,
                **kafka_python_options(settings),
            )
        except Exception as exc:  # the broker is what we are about to stop: say, and go on
            log.warning("could not read the workers' lag at stop: %s", type(exc).__name__)
            break
        lag = total(lags)
        if lag == 0:
            return
        time.sleep(0.2)
    if lag != 0:
        print(f"workers did not drain everything (lag {lag}); the rest is kept", flush=True)


def _local_account(settings: Settings) -> None:
    """A local run gets one console account (a supervisor, to see every page) whose generated
    password is kept (0600) under data_dir, unless accounts exist already."""
    from review import accounts

    assert settings.database_url
    url = database_conninfo(settings)
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
            + (f", {c.ops_url}/metrics" if c.ops_url else "")
            for c in children
        ),
        "",
        '  send a tip:       .venv/bin/tipline submit --object 7 "Saw this bag in a Lidl in Graz"',
        "  see the queue:    .venv/bin/tipline queue",
        "  watch it:         .venv/bin/tipline status",
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
