"""A real Apache Kafka cluster for tests: three combined KRaft nodes on loopback.

Kept out of the package on purpose: production never starts Kafka itself. The broker jars come
from Maven Central through tests/kafka/pom.xml (`make kafka-jars`, cached in .cache/kafka-jars,
never committed); the cluster-wide broker settings come from deploy/kafka/cluster.properties, the
same file the deploy tests hold compose and Kubernetes to. Each node runs in its own JVM with a
small heap; `close()` (also registered with atexit) kills every JVM it started.
"""

from __future__ import annotations

import atexit
import base64
import gc
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
JARS = Path(os.environ.get("TIPLINE_KAFKA_JARS", REPO / ".cache" / "kafka-jars"))
TEMPLATE = REPO / "deploy" / "kafka" / "cluster.properties"
HEAP = "-Xmx512m"
# The SASL listener's one user, for PLAIN and for SCRAM-SHA-512 (test credentials only).
SASL_USER = "tipline"
SASL_PASSWORD = "sasl-test-password-0123"


class ClusterUnavailable(RuntimeError):
    """Java or the broker jars are missing: the Apache tier cannot run here."""


def template() -> dict[str, str]:
    """The cluster-wide broker settings, as key -> value."""
    values: dict[str, str] = {}
    for raw in TEMPLATE.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def missing() -> str | None:
    """Why the cluster cannot start here, or None when it can."""
    if shutil.which("java") is None:
        return (
            "no `java` on PATH: the Apache Kafka tier needs OpenJDK 17 "
            "(apt-get install openjdk-17-jre-headless)"
        )
    if not any(JARS.glob("kafka_2.13-*.jar")):
        return f"no Kafka jars in {JARS}: run `make kafka-jars` (needs Maven)"
    return None


def _free_ports(count: int) -> list[int]:
    # Held open together so the kernel cannot hand the same port out twice.
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def collect_refused_sockets() -> None:
    # kafka-python drops the socket of a refused connection without closing it; collect those
    # here, while the cluster starts, rather than as a ResourceWarning in whichever test runs
    # when the garbage collector next passes (warnings are errors in tests).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _cluster_id() -> str:
    # Kafka's Uuid text form: 16 random bytes, url-safe base64 without padding. Like Kafka's own
    # Uuid.randomUuid, never one that starts with "-": kafka-storage's argument parser reads
    # "--cluster-id -5Xn..." as a missing value (one id in 64; it failed a CI run).
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def java(main: str, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one of Kafka's command-line tools (a main class from the same jars)."""
    return subprocess.run(
        [
            "java",
            HEAP,
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            f"{JARS}/*",
            main,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=True,
    )


@dataclass
class Node:
    node_id: int
    port: int
    controller_port: int
    home: Path
    sasl_port: int = 0  # SASL_PLAINTEXT listener (PLAIN and SCRAM-SHA-512 users below)
    proc: subprocess.Popen[bytes] | None = None
    stopped: bool = False  # SIGSTOPped

    @property
    def config(self) -> Path:
        return self.home / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.home / "broker.log"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class KafkaCluster:
    """Three KRaft nodes on loopback. `bootstrap` lists every broker."""

    root: Path
    size: int = 3
    nodes: list[Node] = field(default_factory=list)
    cluster_id: str = field(default_factory=_cluster_id)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    @property
    def sasl_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.sasl_port}" for n in self.nodes)

    def start(self, timeout_s: float = 120) -> KafkaCluster:
        reason = missing()
        if reason:
            raise ClusterUnavailable(reason)
        ports = _free_ports(3 * self.size)
        self.nodes = [
            Node(
                i + 1, ports[3 * i], ports[3 * i + 1], self.root / f"node{i + 1}", ports[3 * i + 2]
            )
            for i in range(self.size)
        ]
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        for node in self.nodes:
            node.home.mkdir(parents=True, exist_ok=True)
            settings = (
                template()
                | {
                    "node.id": str(node.node_id),
                    "controller.quorum.voters": voters,
                    "listeners": f"PLAINTEXT://127.0.0.1:{node.port},"
                    f"SASL_PLAINTEXT://127.0.0.1:{node.sasl_port},"
                    f"CONTROLLER://127.0.0.1:{node.controller_port}",
                    "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port},"
                    f"SASL_PLAINTEXT://127.0.0.1:{node.sasl_port}",
                    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,"
                    "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
                    "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
                        "org.apache.kafka.common.security.plain.PlainLoginModule required "
                        f'user_{SASL_USER}="{SASL_PASSWORD}";'
                    ),
                    "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                    ),
                    "log.dirs": str(node.home / "data"),
                }
                | self.extra
            )
            node.config.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        atexit.register(self.close)
        # Formatting is one JVM per node; run them side by side, they do not share anything.
        formats = [
            subprocess.Popen(
                [
                    "java",
                    HEAP,
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    f"{JARS}/*",
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={self.cluster_id}",
                    "--config",
                    str(node.config),
                    "--ignore-formatted",
                    "--add-scram",
                    f"SCRAM-SHA-512=[name={SASL_USER},password={SASL_PASSWORD}]",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for node in self.nodes
        ]
        for proc in formats:
            out, _ = proc.communicate(timeout=120)
            if proc.returncode:
                raise RuntimeError(f"kafka-storage format failed:\n{out.decode(errors='replace')}")
        for node in self.nodes:
            self._launch(node)
        self.wait_ready(timeout_s)
        return self

    def _launch(self, node: Node) -> None:
        log4j = node.home / "log4j2.properties"
        log4j.write_text(
            "rootLogger.level = INFO\nrootLogger.appenderRef.f.ref = F\n"
            "appender.f.type = File\nappender.f.name = F\n"
            f"appender.f.fileName = {node.log_path}\nappender.f.append = true\n"
            "appender.f.layout.type = PatternLayout\n"
            "appender.f.layout.pattern = [%d] %p %m (%c)%n\n"
        )
        with (node.home / "stdout.log").open("ab") as out:
            node.proc = subprocess.Popen(
                [
                    "java",
                    HEAP,
                    "-Xms128m",
                    "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1",
                    "-XX:+ExitOnOutOfMemoryError",
                    f"-Dlog4j2.configurationFile={log4j}",
                    "-cp",
                    f"{JARS}/*",
                    "kafka.Kafka",
                    str(node.config),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        node.stopped = False

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Until every running broker is registered and answers metadata."""
        from kafka.admin import KafkaAdminClient

        want = {n.node_id for n in self.nodes if n.alive() and not n.stopped}
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.proc is not None and node.proc.poll() is not None and not node.stopped:
                    raise RuntimeError(
                        f"broker {node.node_id} exited with {node.proc.returncode}:\n"
                        + self.tail(node)
                    )
            if not all(_listening(n.port) for n in self.nodes if n.alive() and not n.stopped):
                time.sleep(0.5)
                continue
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap.split(","), request_timeout_ms=5000
                )
                try:
                    brokers = {
                        b["broker_id"]
                        for b in admin.describe_cluster()["brokers"]
                        if not b.get("is_fenced")
                    }
                finally:
                    admin.close()
                if want <= brokers:
                    collect_refused_sockets()
                    return
            except Exception as exc:  # any failure here means "not yet"
                last = exc
            time.sleep(0.5)
        raise TimeoutError(
            f"cluster not ready in {timeout_s}s ({last}):\n" + self.tail(self.nodes[0])
        )

    def tail(self, node: Node, chars: int = 3000) -> str:
        text = ""
        for path in (node.home / "stdout.log", node.log_path):
            if path.exists():
                text += path.read_text(errors="replace")[-chars:]
        return text

    # --- failures ---------------------------------------------------------------------------
    def kill(self, node: Node) -> None:
        """SIGKILL: the JVM is gone without a controlled shutdown."""
        assert node.proc is not None
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait()

    def restart(self, node: Node) -> None:
        assert not node.alive()
        self._launch(node)

    def pause(self, node: Node) -> None:
        assert node.proc is not None
        node.proc.send_signal(signal.SIGSTOP)
        node.stopped = True

    def resume(self, node: Node) -> None:
        assert node.proc is not None
        node.proc.send_signal(signal.SIGCONT)
        node.stopped = False

    def controller_leader(self) -> Node:
        """The active KRaft controller, as the quorum tool reports it."""
        out = java(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            "--bootstrap-server",
            self.bootstrap,
            "describe",
            "--status",
        ).stdout
        match = re.search(r"LeaderId:\s+(\d+)", out)
        assert match, out
        return self.nodes[int(match.group(1)) - 1]

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id - 1]

    def pids(self) -> list[int]:
        return [n.proc.pid for n in self.nodes if n.proc is not None]

    def close(self) -> None:
        """Kill every JVM of the cluster (a paused one is resumed first, or it never dies)."""
        for node in self.nodes:
            if node.alive():
                assert node.proc is not None
                node.proc.send_signal(signal.SIGCONT)
                node.proc.terminate()
        deadline = time.monotonic() + 15
        for node in self.nodes:
            if node.proc is None:
                continue
            try:
                node.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str, step: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


# One cluster per test run, shared by tests/integration (broker "apache") and tests/kafka.
@dataclass
class _Shared:
    cluster: KafkaCluster | None = None
    users: int = 0


_shared = _Shared()


@contextmanager
def apache_cluster(root: Path) -> Iterator[KafkaCluster]:
    """The run's cluster, started on first use and closed after its last user. Without Java or
    the jars the test is skipped with the reason, except under CI=true, where it fails."""
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Apache Kafka tier cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    if _shared.cluster is None:
        _shared.cluster = KafkaCluster(root).start()
    _shared.users += 1
    try:
        yield _shared.cluster
    finally:
        _shared.users -= 1
        if _shared.users == 0:
            cluster, _shared.cluster = _shared.cluster, None
            cluster.close()
            collect_refused_sockets()  # clients of the run's last tests are garbage by now
            alive = [pid for pid in cluster.pids() if _pid_alive(pid)]
            assert not alive, f"Kafka JVMs still running after close: {alive}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
