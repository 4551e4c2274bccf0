"""The embedded services stop with their owner: a PostgreSQL restarted under a running stack
(issue 9 item 10), and both services when the owner is killed."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tipline.embedded import embedded_postgres

pytestmark = pytest.mark.integration


def _running(data_dir: Path) -> bool:
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def test_restarted_postgres_is_stopped_at_exit() -> None:
    from embedded_postgres import _commands

    parent = Path(tempfile.mkdtemp(prefix="tipline-pg-restart-"))
    parent.chmod(0o755)
    data_dir = parent / "data"
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        with embedded_postgres(data_dir):
            first = int((data_dir / "postmaster.pid").read_text().split()[0])
            _commands.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=data_dir, user=user)
            assert int((data_dir / "postmaster.pid").read_text().split()[0]) != first
        assert not _running(data_dir)
    finally:
        if _running(data_dir):  # leave no server behind even when the fix regresses
            _commands.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data_dir, user=user)
        shutil.rmtree(parent, ignore_errors=True)


_OWNER = """
import os, sys, time
from pathlib import Path
from tipline.embedded import embedded_kafka, embedded_postgres
with embedded_kafka() as kafka, embedded_postgres(Path(sys.argv[1])):
    print(kafka, flush=True)
    time.sleep(600)
"""


def test_services_of_a_killed_owner_are_stopped() -> None:
    """kill -9 of the process that started the embedded broker and PostgreSQL (no cleanup
    runs) still stops both, so the next run finds the port and the data directory free."""

    parent = Path(tempfile.mkdtemp(prefix="tipline-reaper-"))
    parent.chmod(0o755)
    data_dir = parent / "data"
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    with owner:
        _kill_and_check(owner, data_dir, parent)


def _kill_and_check(owner: subprocess.Popen[str], data_dir: Path, parent: Path) -> None:
    import psutil

    children: list[psutil.Process] = []
    try:
        assert owner.stdout is not None
        kafka = owner.stdout.readline().strip()
        assert kafka, "the owner did not start its services"
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        children.extend(psutil.Process(owner.pid).children())  # the broker and both reapers
        assert len(children) == 3
        owner.kill()
        owner.wait()
        _, alive = psutil.wait_procs([*children, psutil.Process(postmaster)], timeout=30)
        assert alive == [], f"outlived their owner: {[p.cmdline()[:2] for p in alive]}"
        port = int(kafka.rsplit(":", 1)[1])
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # the broker's port is free again
    finally:
        owner.kill()
        if _running(data_dir):  # leave no server behind even when the fix regresses
            from embedded_postgres import _commands

            user = "embedded_postgres" if os.geteuid() == 0 else None
            _commands.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data_dir, user=user)
        for child in children:  # fail loudly above, but leave nothing behind
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        shutil.rmtree(parent, ignore_errors=True)
