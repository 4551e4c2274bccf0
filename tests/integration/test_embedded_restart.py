"""A PostgreSQL restarted under a running stack is stopped with it (issue 9 item 10)."""

from __future__ import annotations

import os
import shutil
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
