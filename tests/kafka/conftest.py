"""The Apache Kafka tier: collected only when the run targets the Apache cluster
(TIPLINE_TEST_BROKER=apache, as `make test-kafka` sets it), so `make test` needs no Java.
test_deploy.py needs no broker and runs in both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka.cluster import KafkaCluster, apache_cluster, collect_refused_sockets

if os.environ.get("TIPLINE_TEST_BROKER") != "apache":
    collect_ignore = [
        p.name for p in Path(__file__).parent.glob("test_*.py") if p.name != "test_deploy.py"
    ]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Connections kafka-python opened to a killed broker and dropped unclosed stay reachable
    # from the run's last clients until every fixture is gone; collect them here, or pytest's
    # final garbage collection reports them as errors after a green run.
    collect_refused_sockets()


@pytest.fixture(autouse=True)
def _previous_tests_sockets() -> None:
    # kafka-python leaves unclosed the sockets of connections a killed broker refused or reset
    # and a frozen broker accepted and never answered (the failure tests make all three); they
    # become garbage whenever the client that held them is collected, which may be during the
    # next test, where the ResourceWarning would fail an innocent test (make test-kafka: the
    # SASL test, after the broker-failure test). Collected here, silently, before each test of
    # this tier; the embedded suites keep reporting every unclosed socket.
    collect_refused_sockets()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    with apache_cluster(tmp_path_factory.mktemp("kafka-cluster")) as running:
        yield running


# The pipeline fixtures (PostgreSQL, settings, a real worker) are the integration suite's own,
# on the same cluster: its `kafka` fixture resolves to this run's Apache cluster.
from tests.integration.conftest import (  # noqa: E402,F401
    broker_kind,
    database_url,
    kafka,
    postgres_server,
    replication,
    settings,
    worker,
)
