"""Every test in this folder carries the ``reliability`` marker; the leak audit uses the
integration fixtures (real broker, PostgreSQL and worker)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import (  # noqa: F401 - fixtures
    broker_kind,
    database_url,
    kafka,
    postgres_server,
    replication,
    settings,
    worker,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)
