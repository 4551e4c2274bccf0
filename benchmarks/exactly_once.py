"""Experiment: does faust's ``processing_guarantee="exactly_once"`` work for agents shaped like
tipline's, on the Apache Kafka cluster, and what does it cost?

An agent like processors/app.py's (concurrency 1, ``stream.take(batch, within)``, one output
record per input sent to the next topic) copies SRC -> DST. For each guarantee the worker is
started, killed with SIGKILL mid-stream, started again, and DST is read with
``isolation_level=read_committed``: duplicates are the replayed outputs a downstream stage would
see. The agent is written here, not imported from processors/app.py, so the experiment does not
depend on the worker's internals (which are being rewritten) and needs no database.

    python benchmarks/exactly_once.py           # about 3 minutes; needs Java + `make kafka-jars`
    python benchmarks/exactly_once.py --records 2000   # shorter

Figures share two cores with three broker JVMs: compare the two rows, not absolute rates.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RECORDS = 5000
BATCH = 100


def agent_main(args: argparse.Namespace) -> None:
    import faust

    app = faust.App(
        args.app_id,
        broker=[f"kafka://{h}" for h in args.bootstrap.split(",")],
        store="memory://",
        autodiscover=False,
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,
        processing_guarantee=args.guarantee,
        broker_session_timeout=10,
        broker_heartbeat_interval=1,
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        datadir=args.datadir,
    )
    src = app.topic(args.src, key_type=bytes, value_type=bytes, value_serializer="raw")
    dst = app.topic(args.dst, key_type=bytes, value_type=bytes, value_serializer="raw")

    @app.agent(src, concurrency=1)  # type: ignore[untyped-decorator]
    async def copy(stream):  # type: ignore[no-untyped-def]
        async for batch in stream.take(BATCH, within=0.2):
            for value in batch:
                record = json.loads(value)
                record["stage"] = "copied"
                await dst.send(value=json.dumps(record).encode())

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--without-web"]
    app.main()


def run(guarantee: str, bootstrap: str, work: Path) -> dict[str, float | int | str]:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import KafkaAdminClient, NewTopic

    tag = uuid.uuid4().hex[:6]
    src, dst = f"eos-src-{tag}", f"eos-dst-{tag}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    admin.create_topics([NewTopic(src, 6, 3), NewTopic(dst, 6, 3)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all")
    for i in range(RECORDS):
        producer.send(src, key=str(i % 11).encode(), value=json.dumps({"n": i}).encode())
    producer.flush()
    producer.close()

    command = [
        sys.executable, __file__, "agent", "--guarantee", guarantee, "--bootstrap", bootstrap,
        "--src", src, "--dst", dst, "--app-id", f"eos-{tag}", "--datadir", str(work / tag),
    ]  # fmt: skip
    log = (work / f"{guarantee}.log").open("ab")

    def consumer() -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=bootstrap.split(","),
            isolation_level="read_committed",
            enable_auto_commit=False,
        )

    def committed_count() -> int:
        c = consumer()
        try:
            parts = [TopicPartition(dst, p) for p in range(6)]
            return sum(c.end_offsets(parts).values())  # LSO in read_committed
        finally:
            c.close()

    started = time.monotonic()
    worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while committed_count() < RECORDS // 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed_with = committed_count()
    worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    outcome = "ok"
    try:
        seen: collections.Counter[int] = collections.Counter()
        c = consumer()
        parts = [TopicPartition(dst, p) for p in range(6)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        deadline = time.monotonic() + 240
        while len(seen) < RECORDS and time.monotonic() < deadline:
            for batch in c.poll(timeout_ms=500).values():
                for record in batch:
                    seen[json.loads(record.value)["n"]] += 1
        elapsed = time.monotonic() - started
        c.close()
        if len(seen) < RECORDS:
            outcome = f"only {len(seen)} of {RECORDS} distinct records arrived"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    return {
        "outcome": outcome,
        "records": RECORDS,
        "committed at kill": killed_with,
        "duplicates seen (read_committed)": sum(n - 1 for n in seen.values() if n > 1),
        "wall time incl. kill + restart (s)": round(elapsed, 1),
        "records/s overall": round(RECORDS / elapsed),
    }


def main() -> None:
    from tests.kafka.cluster import KafkaCluster, missing

    reason = missing()
    if reason:
        print(f"exactly_once experiment not run: {reason}")
        return
    work = Path(tempfile.mkdtemp(prefix="eos-"))
    cluster = KafkaCluster(work / "kafka").start()
    try:
        results = {g: run(g, cluster.bootstrap, work) for g in ("at_least_once", "exactly_once")}
    finally:
        cluster.close()
    print(
        f"faust processing_guarantee on Apache Kafka (3 nodes), {RECORDS} records, SIGKILL mid-way"
    )
    for guarantee, result in results.items():
        print(f"  {guarantee}: " + ", ".join(f"{k} {v}" for k, v in result.items()))
    print(f"  logs in {work}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "agent"))
    parser.add_argument("--records", type=int, default=RECORDS, help="records per guarantee")
    for flag in ("--guarantee", "--bootstrap", "--src", "--dst", "--app-id", "--datadir"):
        parser.add_argument(flag)
    parsed = parser.parse_args()
    if parsed.mode == "agent":
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        agent_main(parsed)
    else:
        RECORDS = parsed.records
        main()
