"""Broker failures under a steady intake: a SIGKILLed broker (restarted later) and a controller
leader frozen with SIGSTOP for 20 s. Every tip the intake acknowledged (202, i.e. acks=all from
two of three replicas) must be in the database exactly once, and the intake may answer 503 only
while fewer than min.insync.replicas brokers are in sync, which one failure at a time never causes.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import uvicorn
from kafka.admin import KafkaAdminClient
from pydantic import SecretStr

from ingest.photos import MediaStore
from ingest.producer import TipProducer
from ingest.web import create_app
from tests.integration.conftest import Worker, wait_for
from tests.kafka.cluster import KafkaCluster, collect_refused_sockets, template
from tipline.core.settings import Settings
from tipline.core.topics import Topics
from tipline.embedded import free_port

API_KEY = "broker-failure-test-key-0123456789"
RATE = 25.0  # tips per second: steady, well under what one worker stores


@dataclass
class Intake:
    """A partner posting tips at a steady rate, remembering what the intake answered."""

    url: str
    accepted: dict[str, float] = field(default_factory=dict)  # tip id -> time of the 202
    refused: list[tuple[str, int, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, number: int) -> None:
        tip_id = f"bf{number:06d}"
        # Objects spread over the partitions, so every broker leads some of the traffic.
        body = json.dumps(
            {
                "message_id": tip_id,
                "object_ref": str(number % 11),
                "body": f"Saw this bag in shop {number}",
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/api/tips",
            data=body,
            headers={"content-type": "application/json", "authorization": f"Bearer {API_KEY}"},
        )
        stored_as = ""
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status = answer.status
                # The stored id is keyed under the sender-key secret: take it from the receipt.
                stored_as = json.loads(answer.read())["tip_id"]
        except urllib.error.HTTPError as exc:
            status = exc.code
        with self.lock:
            if status == 202:
                self.accepted[stored_as] = time.monotonic()
            else:
                self.refused.append((tip_id, status, time.monotonic()))

    def run(self) -> None:
        # One thread per request: a request stalled by a failing broker must not slow the rate.
        number = 0
        start = time.monotonic()
        threads = []
        while not self.stop.is_set():
            number += 1
            thread = threading.Thread(target=self.post, args=(number,), daemon=True)
            thread.start()
            threads.append(thread)
            time.sleep(max(0.0, start + number / RATE - time.monotonic()))
        for thread in threads:
            thread.join(timeout=90)

    def longest_gap(self, since: float, until: float) -> float:
        """Longest time without an acknowledgement in a window: how long intake stalled."""
        times = sorted(t for t in self.accepted.values() if since <= t <= until)
        edges = [since, *times, until]
        return max(b - a for a, b in itertools.pairwise(edges))


@pytest.fixture
def intake(settings: Settings, tmp_path: Path) -> Iterator[Intake]:
    assert settings.kafka
    port = free_port()
    configured = settings.model_copy(
        update={
            "web_api_keys": {"partner": SecretStr(API_KEY)},
            "web_partner_rate": 1000.0,
            "web_partner_burst": 1000,
            "web_port": port,
        }
    )
    with TipProducer.from_settings(settings) as producer:
        app = create_app(configured, producer, MediaStore(tmp_path / "media"))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_config=None)
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_for(lambda: server.started, 20, "uvicorn")
        yield Intake(f"http://127.0.0.1:{port}")
        server.should_exit = True
        thread.join(timeout=10)
    # The producer's connections refused by the killed broker are garbage only now.
    collect_refused_sockets()


def fully_in_sync(cluster: KafkaCluster, topics: Topics) -> bool:
    """Every partition of the pipeline's topics has all three replicas in its ISR."""
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap.split(","))
    try:
        described = admin.describe_topics(list(topics.all()))
    finally:
        admin.close()
    return all(len(p["isr_nodes"]) == cluster.size for t in described for p in t["partitions"])


# About 60 s of faults plus start and drain; on a busy 2-core machine the drain alone took minutes.
@pytest.mark.timeout(900)
def test_acknowledged_tips_survive_broker_kill_and_frozen_controller(
    cluster: KafkaCluster, settings: Settings, worker: Worker, intake: Intake
) -> None:
    assert settings.database_url
    assert int(template()["min.insync.replicas"]) == 2
    topics = Topics.from_settings(settings)
    url = settings.database_url.get_secret_value()
    runner = threading.Thread(target=intake.run, daemon=True)
    runner.start()
    figures: dict[str, float] = {}
    try:
        time.sleep(5)
        # 1. SIGKILL a broker that is not the controller leader, restart it 10 s later.
        leader = cluster.controller_leader()
        victim = next(n for n in cluster.nodes if n is not leader)
        killed_at, killed_wall = time.monotonic(), time.time()
        cluster.kill(victim)
        time.sleep(10)
        cluster.restart(victim)
        cluster.wait_ready(120)
        wait_for(lambda: fully_in_sync(cluster, topics), 120, "the restarted broker in sync")
        figures["kill: replicas back in sync after restart (s)"] = time.monotonic() - killed_at - 10
        figures["kill: longest intake stall (s)"] = intake.longest_gap(killed_at, time.monotonic())

        # 2. Freeze the controller leader (broker too: nodes are combined) for 20 s.
        leader = cluster.controller_leader()
        paused_at, paused_wall = time.monotonic(), time.time()
        cluster.pause(leader)
        time.sleep(20)
        cluster.resume(leader)
        wait_for(lambda: fully_in_sync(cluster, topics), 120, "the frozen node back in sync")
        figures["stop: replicas back in sync after SIGCONT (s)"] = time.monotonic() - paused_at - 20
        figures["stop: longest intake stall (s)"] = intake.longest_gap(paused_at, time.monotonic())
        stopped_wall = time.time()
        new_leader = cluster.controller_leader()
        time.sleep(5)
    finally:
        intake.stop.set()
        runner.join(timeout=120)

    accepted = set(intake.accepted)
    drain_from = time.monotonic()
    deadline = drain_from + 180
    while not _stored(url) >= accepted and time.monotonic() < deadline:
        time.sleep(0.5)
    figures["drain: last acknowledged tip stored after the intake stopped (s)"] = (
        time.monotonic() - drain_from
    )
    with psycopg.connect(url) as conn:
        rows = [r[0] for r in conn.execute("SELECT tip_id FROM tips")]
    lost = accepted - set(rows)
    # How long the pipeline stored nothing around each fault: gaps between sink commits.
    figures["kill: longest gap between stored rows (s)"] = _commit_gap(
        url, killed_wall, paused_wall
    )
    figures["stop: longest gap between stored rows (s)"] = _commit_gap(
        url, paused_wall, stopped_wall
    )
    duplicated = len(rows) - len(set(rows))
    print(
        f"\nbroker failures: {len(accepted)} tips acknowledged, {len(intake.refused)} refused, "
        f"2 faults (1 SIGKILL + restart, 1 SIGSTOP 20 s of controller leader {leader.node_id}; "
        f"new leader {new_leader.node_id}), lost {len(lost)}, duplicated {duplicated}, "
        f"replays absorbed by the sink {worker.sink_seen() - len(rows)}"
    )
    for name, value in figures.items():
        print(f"  {name}: {value:.1f}")
    collect_refused_sockets()
    assert not lost, f"acknowledged tips missing: {sorted(lost)[:10]}"
    assert duplicated == 0
    # Two of three brokers were in sync throughout, so nothing had to be refused.
    when = {"before the kill": 0.0, "after the kill": killed_at, "after SIGSTOP": paused_at}
    by_phase = {
        phase: sum(
            1
            for _, _, t in intake.refused
            if t >= start and not any(t >= later for later in when.values() if later > start)
        )
        for phase, start in when.items()
    }
    assert not intake.refused, (
        f"refused while >= min.insync.replicas in sync: {by_phase}, first {intake.refused[:5]}"
    )
    assert len(accepted) > RATE * 30


def _stored(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tip_id FROM tips")}


def _commit_gap(url: str, since: float, until: float) -> float:
    """Longest time in [since, until] (epoch seconds) in which no row was stored."""
    with psycopg.connect(url) as conn:
        times = [
            r[0].timestamp()
            for r in conn.execute(
                "SELECT ingested_at FROM tips WHERE ingested_at BETWEEN to_timestamp(%s) "
                "AND to_timestamp(%s) ORDER BY ingested_at",
                (since, until),
            )
        ]
    edges = [since, *times, until]
    return max(b - a for a, b in itertools.pairwise(edges))
