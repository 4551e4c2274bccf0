"""The test cluster's id: a random Kafka Uuid that kafka-storage always accepts."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from tests.kafka import cluster
from tests.kafka.cluster import _cluster_id, java, template

# 0xFB as the first byte encodes to a leading "-" in url-safe base64.
DASH_FIRST = uuid.UUID(bytes=bytes([0xFB]) + bytes(15))


def test_an_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter([DASH_FIRST, uuid.UUID(int=7)])
    monkeypatch.setattr(cluster.uuid, "uuid4", lambda: next(drawn))
    assert base64.urlsafe_b64encode(DASH_FIRST.bytes).decode().startswith("-")
    assert _cluster_id() == base64.urlsafe_b64encode(uuid.UUID(int=7).bytes).decode().rstrip("=")


def test_kafka_storage_takes_a_dash_first_id_in_the_equals_form(tmp_path: Path) -> None:
    # The cluster passes --cluster-id=ID, so even an id Kafka would not draw cannot be read as
    # a missing value (as "--cluster-id -5Xn..." was, failing a CI run).
    dash_id = base64.urlsafe_b64encode(DASH_FIRST.bytes).decode().rstrip("=")
    settings = template() | {
        "node.id": "1",
        "process.roles": "broker,controller",
        "controller.quorum.voters": "1@127.0.0.1:1",
        "listeners": "PLAINTEXT://127.0.0.1:2,CONTROLLER://127.0.0.1:1",
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(tmp_path / "data"),
    }
    config = tmp_path / "server.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    java("kafka.tools.StorageTool", "format", f"--cluster-id={dash_id}", "--config", str(config))
    meta = (tmp_path / "data" / "meta.properties").read_text()
    assert f"cluster.id={dash_id}" in meta
