"""The review app when its database stops or freezes (issue #9 item 10), on a PostgreSQL of its
own: 503 with Retry-After instead of 500 on AdminShutdown, and an answer within the timeout
instead of a 30 s hang while the server is frozen (SIGSTOP); it recovers by itself."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from review.api import create_app
from store.migrate import migrate
from tests.integration.test_review_api import ALICE, bearer, make_tip, store
from tipline.core.settings import Settings
from tipline.embedded import embedded_postgres

pytestmark = pytest.mark.integration

TIMEOUT_S = 2.0


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Path]]:
    parent = Path(tempfile.mkdtemp(prefix="tipline-pg-outage-"))
    parent.chmod(0o755)
    try:
        with embedded_postgres(parent / "data") as url:
            migrate(url)
            yield url, parent / "data"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def server_pids(data_dir: Path) -> list[int]:
    """The postmaster and every backend and helper process it forked (from /proc: no ps)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and brackets: the parent pid follows its ")".
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def client_for(url: str, tmp_path: Path) -> TestClient:
    settings = Settings(
        database_url=SecretStr(url),
        data_dir=tmp_path / "data",
        review_tokens={"alice": SecretStr(ALICE)},
        review_secure_cookies=False,
        review_db_timeout=TIMEOUT_S,
    )
    return TestClient(create_app(settings), follow_redirects=False)


def timed_get(client: TestClient, path: str) -> tuple[int, float, dict[str, str]]:
    start = time.monotonic()
    answer = client.get(path, headers=bearer())
    return answer.status_code, time.monotonic() - start, dict(answer.headers)


def test_a_frozen_database_answers_503_in_time_and_recovers(
    own_postgres: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = own_postgres
    store(url, [make_tip("f1", 50)])
    with client_for(url, tmp_path) as client:
        assert timed_get(client, "/api/queue")[0] == 200
        pids = server_pids(data_dir)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            for path in ("/api/queue", "/tips/f1"):
                status, took, headers = timed_get(client, path)
                assert status == 503, path
                assert took < TIMEOUT_S + 3, (path, took)  # was ~30 s
                assert headers["retry-after"]
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while timed_get(client, "/api/queue")[0] != 200:
            assert time.monotonic() < deadline, "the app did not recover after the freeze"
            time.sleep(0.5)


def test_a_stopped_database_answers_503_not_500(
    own_postgres: tuple[str, Path], tmp_path: Path
) -> None:
    url, data_dir = own_postgres
    store(url, [make_tip("s1", 50)])
    with client_for(url, tmp_path) as client:
        assert timed_get(client, "/api/queue")[0] == 200
        # A fast shutdown: open connections get AdminShutdown, new ones are refused.
        postmaster = server_pids(data_dir)[0]
        os.kill(postmaster, signal.SIGINT)
        deadline = time.monotonic() + 20
        while (data_dir / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for path in ("/api/queue", "/api/tips/s1", "/queue", "/tips/s1"):
            status, took, headers = timed_get(client, path)
            assert status == 503, (path, status)
            assert took < TIMEOUT_S + 3, (path, took)
            assert headers["retry-after"] == "10"
        page = client.get("/queue", headers=bearer())
        assert "Database unavailable" in page.text
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2).close()
