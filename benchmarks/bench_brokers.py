"""The pipeline on both brokers in one run: embedded Tansu beside a 3-node Apache Kafka cluster.

For each broker: one real `tipline worker` process, PostgreSQL (embedded), the one producer
(acks=all). Two phases, each bounded:
  1. steady: STEADY_RATE tips/s for STEADY_SECONDS; p50/p99 intake -> committed row, and per hop
     from the records' own timestamps (raw -> clean -> scored -> row);
  2. burst: BURST tips at once; tips/s until the last row is committed.

The Apache cluster needs Java 17 and the jars (`make kafka-jars`); without them that column says
why it is missing. Figures share two cores with three broker JVMs, PostgreSQL and the load
generator (and with other people's work on this machine): read them as a comparison, not a ceiling.

    python benchmarks/bench_brokers.py                 # about 3 minutes on a quiet machine
    python benchmarks/bench_brokers.py --short         # 10 s steady, burst of 1,000

Wall-clock figures on a shared machine are distorted by everyone else's work; the worker's CPU
time per tip (user + system, from /proc, over the burst) is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from kafka import KafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fresh_db import fresh_database

from ingest.producer import TipProducer
from schemas import RawTip
from tests.kafka.cluster import KafkaCluster, missing
from tipline.core.settings import Settings
from tipline.core.topics import (
    Topics,
    ensure_topics,
)
from tipline.embedded import embedded_kafka, embedded_postgres

STEADY_RATE = 50
STEADY_SECONDS = 20
BURST = 2000
TEXTS = (
    "Saw this bag in a Lidl in Graz last spring",
    "Diese Flasche gibt es bei Rossmann in Leipzig",
    "Ce panneau ressemble à une boutique Carrefour à Lyon",
    "Esta mochila la vendían en El Corte Inglés de Sevilla",
)


def tips(prefix: str, start: int, n: int) -> list[RawTip]:
    now = datetime.now(UTC)
    return [
        RawTip(
            tip_id=f"{prefix}-{i:06d}",
            channel="web",
            received_at=now,
            object_ref=str(i % 11),
            body=f"{TEXTS[i % len(TEXTS)]} (variant {i})",
            channel_meta={"interface": "api", "partner": "bench"},
        )
        for i in range(start, start + n)
    ]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rows(url: str) -> dict[str, tuple[float, float]]:
    """tip id -> (received_at, ingested_at) as epoch seconds."""
    with psycopg.connect(url) as conn:
        return {
            r[0]: (r[1].timestamp(), r[2].timestamp())
            for r in conn.execute("SELECT tip_id, received_at, ingested_at FROM tips")
        }


def record_times(bootstrap: str, topic: str) -> dict[str, float]:
    """tip id -> the record's timestamp (epoch seconds) on ``topic``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: dict[str, float] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(consumer.position(p) < ends[p] for p in parts):
            for batch in consumer.poll(timeout_ms=500).values():
                for record in batch:
                    tip_id = json.loads(record.value).get("tip_id")
                    if tip_id:
                        out[tip_id] = record.timestamp / 1000
        return out
    finally:
        consumer.close()


def wait_rows(url: str, want: int, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM tips").fetchone()
        if row and row[0] >= want:
            return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError(f"only {row and row[0]} of {want} rows in {timeout_s}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(name: str, bootstrap: str, replication: int, pg: str, work: Path) -> dict[str, float]:
    url = fresh_database(pg)
    tag = uuid.uuid4().hex[:6]
    settings = Settings(
        kafka=bootstrap,
        database_url=url,  # type: ignore[arg-type]
        topic_prefix=f"b{tag}.",
        app_id=f"bench-{tag}",
        data_dir=work / name,
        partitions=6,
        sender_key_secret="bench-secret-0123456789abcdef",  # type: ignore[arg-type]
    )
    topics = Topics.from_settings(settings)
    ensure_topics(bootstrap, topics, settings.partitions, replication)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")} | {
        "TIPLINE_KAFKA": bootstrap,
        "TIPLINE_DATABASE_URL": url,
        "TIPLINE_TOPIC_PREFIX": settings.topic_prefix,
        "TIPLINE_APP_ID": settings.app_id,
        "TIPLINE_DATA_DIR": str(settings.data_dir),
        "TIPLINE_SENDER_KEY_SECRET": "bench-secret-0123456789abcdef",
        "TIPLINE_LOG_LEVEL": "warn",
    }
    log = work / f"{name}-worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tipline", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with TipProducer(bootstrap, topics.raw) as producer:
            producer.submit_many(tips(name, 0, 20))  # warm-up: group joined, caches loaded
            wait_rows(url, 20, 300)
            sent = 20
            started = time.monotonic()
            while time.monotonic() < started + STEADY_SECONDS:
                batch = max(1, STEADY_RATE // 10)
                producer.submit_many(tips(name, sent, batch))
                sent += batch
                time.sleep(max(0.0, started + (sent - 20) / STEADY_RATE - time.monotonic()))
            wait_rows(url, sent, 300)
            steady_ids = {f"{name}-{i:06d}" for i in range(20, sent)}
            stored = rows(url)
            raw_t = record_times(bootstrap, topics.raw)
            clean_t = record_times(bootstrap, topics.clean)
            scored_t = record_times(bootstrap, topics.scored)
            e2e = [stored[t][1] - stored[t][0] for t in steady_ids]
            hops = {
                "raw -> clean": [
                    clean_t[t] - raw_t[t] for t in steady_ids if t in clean_t and t in raw_t
                ],
                "clean -> scored": [
                    scored_t[t] - clean_t[t] for t in steady_ids if t in scored_t and t in clean_t
                ],
                "scored -> row": [stored[t][1] - scored_t[t] for t in steady_ids if t in scored_t],
            }
            burst_at, cpu_at = time.monotonic(), cpu_seconds(worker.pid)
            producer.submit_many(tips(name, sent, BURST))
            done = wait_rows(url, sent + BURST, 600)
            cpu = cpu_seconds(worker.pid) - cpu_at
        result = {
            "steady p50 intake->row (ms)": 1000 * statistics.median(e2e),
            "steady p99 intake->row (ms)": 1000 * pct(e2e, 0.99),
        }
        for hop, values in hops.items():
            pair = (1000 * statistics.median(values), 1000 * pct(values, 0.99))
            result[f"  {hop} p50 / p99 (ms)"] = pair  # type: ignore[assignment]
        result["burst tips/s (intake -> rows)"] = BURST / (done - burst_at)
        result["burst worker CPU µs per tip"] = 1e6 * cpu / BURST
        return result
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def main() -> None:
    global STEADY_SECONDS, BURST
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="10 s steady, burst of 1,000")
    if parser.parse_args().short:
        STEADY_SECONDS, BURST = 10, 1000
    work = Path(tempfile.mkdtemp(prefix="bench-brokers-"))
    work.chmod(0o755)
    results: dict[str, dict[str, float] | str] = {}
    with embedded_postgres(work / "pg") as pg:
        with embedded_kafka(log_file=work / "tansu.log") as bootstrap:
            results["embedded (Tansu)"] = run("tansu", bootstrap, 1, pg, work)
        reason = missing()
        if reason:
            results["Apache Kafka 3 nodes"] = f"not run: {reason}"
        else:
            cluster = KafkaCluster(work / "kafka").start()
            try:
                results["Apache Kafka 3 nodes"] = run("apache", cluster.bootstrap, 3, pg, work)
            finally:
                cluster.close()
    print(
        f"pipeline on both brokers: steady {STEADY_RATE} tips/s for {STEADY_SECONDS} s, "
        f"burst {BURST}; 1 worker, 6 partitions"
    )
    names = list(results)
    keys: list[str] = []
    for value in results.values():
        if isinstance(value, dict):
            keys += [k for k in value if k not in keys]
    print(f"{'':38}" + "".join(f"{n:>26}" for n in names))
    for key in keys:
        cells = []
        for n in names:
            value = results[n]
            if isinstance(value, str):
                cells.append(f"{'-':>26}")
            elif isinstance(value.get(key), tuple):
                a, b = value[key]  # type: ignore[misc]
                cells.append(f"{f'{a:.0f} / {b:.0f}':>26}")
            else:
                cells.append(f"{value[key]:>26.0f}")
        print(f"{key:38}" + "".join(cells))
    for n, value in results.items():
        if isinstance(value, str):
            print(f"{n}: {value}")


if __name__ == "__main__":
    main()
