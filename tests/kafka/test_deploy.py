"""deploy/ against the code: every service's image, command, ports and environment are what
tipline reads, and the Kafka brokers run with the settings the Apache tier proved
(deploy/kafka/cluster.properties, also the test cluster's). Needs no Java: runs in `make test`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kafka.cluster import REPO, template
from tipline.cli import build_parser
from tipline.core.settings import Settings

DEPLOY = REPO / "deploy"
# Settings of the "ops" branch (ops_host/ops_port: /metrics of workers), merged in parallel with
# this one: accepted while Settings lacks them, checked like every other name once it has them.
PENDING = {"TIPLINE_OPS_HOST", "TIPLINE_OPS_PORT"}
NODE_SPECIFIC = {"node.id", "advertised.listeners"}


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kafka_version() -> str:
    match = re.search(r"<kafka.version>([^<]+)<", (REPO / "tests/kafka/pom.xml").read_text())
    assert match
    return match.group(1)


def env_name(key: str) -> str:
    """The apache/kafka image's variable for a server property."""
    return "KAFKA_" + key.upper().replace(".", "_")


def subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices)  # type: ignore[arg-type]


def check_tipline_env(env: dict[str, str]) -> Settings:
    """Every TIPLINE_ name is a setting and every value parses as that setting."""
    fields = {f"TIPLINE_{name.upper()}" for name in Settings.model_fields}
    unknown = {k for k in env if k.startswith("TIPLINE_") and k not in fields} - PENDING
    assert not unknown, f"variables the code does not read: {sorted(unknown)}"
    known = {k[len("TIPLINE_") :].lower(): v for k, v in env.items() if k in fields}
    return Settings.model_validate(known)


def check_broker_env(env: dict[str, str], nodes: int) -> None:
    for key, value in template().items():
        assert str(env.get(env_name(key))) == value, f"{env_name(key)} != {key}={value}"
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert [v.split("@")[0] for v in voters] == [str(i) for i in range(1, nodes + 1)]


def check_command(command: list[str]) -> None:
    text = " ".join(command)
    used = re.findall(r"\btipline (\w[\w-]*)", text)
    assert used, f"not a tipline command: {command}"
    assert set(used) <= subcommands(), f"unknown subcommand in {command}"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def env_file() -> dict[str, str]:
    lines = (DEPLOY / "tipline.env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_broker_properties_are_the_proven_ones() -> None:
    props = template()
    assert props["process.roles"] == "broker,controller"
    assert int(props["default.replication.factor"]) == 3
    assert int(props["min.insync.replicas"]) == 2
    assert props["unclean.leader.election.enable"] == "false"
    assert props["auto.create.topics.enable"] == "false"


def test_compose_runs_three_kraft_brokers_with_the_shared_settings(compose: dict[str, Any]) -> None:
    brokers = {name: s for name, s in compose["services"].items() if name.startswith("kafka")}
    assert len(brokers) == 3
    ids = set()
    for name, service in brokers.items():
        assert service["image"] == f"apache/kafka:{kafka_version()}"
        env = service["environment"]
        check_broker_env(env, 3)
        ids.add(env["KAFKA_NODE_ID"])
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert f"{env['KAFKA_NODE_ID']}@{name}:9093" in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert ids == {"1", "2", "3"}


def test_compose_tipline_services_match_the_settings(
    compose: dict[str, Any], env_file: dict[str, str]
) -> None:
    services = compose["services"]
    base = check_tipline_env(env_file)
    assert base.kafka and {h.split(":")[0] for h in base.kafka.split(",")} == {
        n for n in services if n.startswith("kafka")
    }
    assert base.replication_factor == int(template()["default.replication.factor"])
    expected_ports = {"web": "web_port", "review": "review_port"}
    for name in ("setup", "worker", "web", "review"):
        service = services[name]
        assert service["image"] == "tipline:latest"
        assert service["env_file"] == "tipline.env"
        check_command(service["command"])
        env = {**env_file, **service.get("environment", {})}
        settings = check_tipline_env(env)
        if name in expected_ports:
            port = getattr(settings, expected_ports[name])
            host = getattr(settings, f"{name}_host")
            assert host == "0.0.0.0", f"{name} must listen beyond the container"
            assert any(str(p).endswith(f":{port}") for p in service["ports"]), service["ports"]
    worker = services["worker"]
    assert worker["deploy"]["replicas"] <= base.partitions
    assert worker["environment"]["TIPLINE_OPS_PORT"] in worker["expose"]


def test_prometheus_scrapes_every_process_on_its_port(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets |= set(static["targets"])
        for sd in job.get("dns_sd_configs", []):
            targets |= {f"{n}:{sd['port']}" for n in sd["names"]}
    services = compose["services"]
    assert targets == {
        f"worker:{services['worker']['environment']['TIPLINE_OPS_PORT']}",
        f"web:{services['web']['environment']['TIPLINE_WEB_PORT']}",
        f"review:{services['review']['environment']['TIPLINE_REVIEW_PORT']}",
    }


def test_kubernetes_kafka_statefulset_uses_the_shared_settings() -> None:
    docs = load_all(DEPLOY / "kubernetes" / "kafka.yaml")
    [sts] = [d for d in docs if d["kind"] == "StatefulSet"]
    assert sts["spec"]["replicas"] == 3
    [container] = sts["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"apache/kafka:{kafka_version()}"
    env = {e["name"]: e["value"] for e in container["env"]}
    check_broker_env(env, 3)
    for i in range(3):
        assert f"{i + 1}@kafka-{i}.kafka:9093" in env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    [pdb] = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    # Never more down on purpose than min.insync.replicas leaves room for.
    assert pdb["spec"]["maxUnavailable"] == 3 - int(template()["min.insync.replicas"])


def test_kubernetes_tipline_manifests_match_the_settings() -> None:
    docs = load_all(DEPLOY / "kubernetes" / "tipline.yaml")
    [config] = [d for d in docs if d["kind"] == "ConfigMap"]
    settings = check_tipline_env(config["data"])
    assert settings.kafka
    assert settings.kafka.split(",") == [f"kafka-{i}.kafka:9092" for i in range(3)]
    assert settings.replication_factor == int(template()["default.replication.factor"])
    ports = {"web": settings.web_port, "review": settings.review_port}
    ops_port = int(config["data"]["TIPLINE_OPS_PORT"])
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        spec = doc["spec"]["template"]["spec"]
        [container] = spec["containers"]
        assert container["image"] == "tipline:latest"
        check_command(container["command"])
        assert {"configMapRef": {"name": "tipline"}} in container["envFrom"]
        name = container["name"]
        exposed = {p["containerPort"] for p in container.get("ports", [])}
        if name in ports:
            assert exposed == {ports[name]}
        if name == "worker":
            assert exposed == {ops_port}
            assert doc["spec"]["replicas"] <= settings.partitions
        if doc["kind"] == "Deployment":
            annotations = doc["spec"]["template"]["metadata"].get("annotations", {})
            assert annotations.get("prometheus.io/scrape") == "true", name
            assert int(annotations["prometheus.io/port"]) in exposed, name


def test_every_deploy_file_parses() -> None:
    for path in sorted(DEPLOY.rglob("*")):
        if path.suffix in (".yaml", ".yml"):
            assert load_all(path), path
        elif path.suffix == ".json":
            import json

            json.loads(path.read_text())
