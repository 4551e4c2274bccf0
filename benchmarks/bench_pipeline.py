"""End to end: realistic tips through the real embedded broker, a real worker and PostgreSQL.

In one run: the sink alone (rows/s), then for the full pipeline and for a passthrough baseline
(same broker, topics, framework and sink; identity stages): a burst at full speed (tips/s) and
a fixed rate (intake → committed row p50/p99, from ``received_at`` to the row's ``stored_at``,
which is ``clock_timestamp()`` at insert). Prints CPU seconds and peak RSS of each worker and
summed, the first worker's mean µs per step, and draws rows stored per second under
benchmarks/results/. ``BENCH_WORKERS=1,2`` runs one and then two ``tipline worker`` processes in
one consumer group (the partitions split between them); the faster of each mode is its headline.

Tips: log-normal lengths around 300 characters built from tests/data/language sentences (every
language there), about 10 % near-duplicates of an earlier tip, some PII (e-mail, phone). The
machine is shared: figures are noisy.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
from fresh_db import fresh_database

from ingest.producer import TipProducer
from processors.app import crowd_rule
from schemas import Cluster, RawTip, ScoredTip
from store.sink import TipWriter
from tipline.core.settings import Settings
from tipline.core.topics import Topics, ensure_topics
from tipline.embedded import embedded_kafka, embedded_postgres

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BURST = int(os.environ.get("BENCH_BURST", "6000"))
RATE = int(os.environ.get("BENCH_RATE", "500"))
RATE_SECONDS = int(os.environ.get("BENCH_RATE_SECONDS", "20"))
SINK_ROWS = int(os.environ.get("BENCH_SINK_ROWS", "20000"))
SECRET = "bench-sender-key-secret-0123456789abcdef"
# "passthrough,pipeline" (the default) or one of them, to compare one mode of two commits.
MODES = os.environ.get("BENCH_MODES", "passthrough,pipeline").split(",")
# Worker processes in the one consumer group ("1,2": each count in turn, the faster one is the
# headline). The topics' partitions are split between them; state is per partition already.
WORKERS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1").split(",")]
# A directory: each worker is sampled by py-spy (``BENCH_PYSPY``, the binary) from the moment it
# is ready, and its stacks written there as collapsed text (``-f raw``), one file per worker.
PROFILE = os.environ.get("BENCH_PROFILE")
PYSPY = os.environ.get("BENCH_PYSPY", "py-spy")
# Extra worker settings to compare, e.g. "TIPLINE_STREAM_BATCH_SIZE=500 TIPLINE_COMMIT_INTERVAL=2".
WORKER_ENV = dict(item.split("=", 1) for item in os.environ.get("BENCH_WORKER_ENV", "").split())
KEEP = os.environ.get("BENCH_KEEP")  # a directory the run's logs are copied to
PARTITIONS = 6  # per topic: at most this many workers share the work


def sentences() -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {}
    with (ROOT / "tests/data/language/sentences.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            by_lang.setdefault(row["lang"], []).append(row["text"])
    return by_lang


def real_parts(rng: random.Random, corpus: dict[str, list[str]]) -> list[str]:
    """Real sentences of one language, up to a log-normal length (median ≈ 270 chars)."""
    sentences_of = corpus[rng.choice(sorted(corpus))]
    target = min(19_000, int(rng.lognormvariate(5.6, 0.5)))
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < target:
        parts.append(rng.choice(sentences_of))
    return parts


def make_tips(n: int, seed: int, start: int = 0) -> list[RawTip]:
    rng = random.Random(seed)
    corpus = sentences()
    bodies: list[str] = []
    tips = []
    for i in range(start, start + n):
        if bodies and rng.random() < 0.10:  # a near-duplicate of an earlier tip
            body = rng.choice(bodies[-500:]) + rng.choice(["!", " .", " ok", ""])
        else:
            parts = real_parts(rng, corpus)
            if rng.random() < 0.2:
                parts.append(
                    f"mail: tipster{i}@example.org, tel +49 171 {rng.randint(1000000, 9999999)}"
                )
            body = " ".join(parts)
        bodies.append(body)
        tips.append(
            RawTip(
                tip_id=f"b-{seed}-{i:07d}",
                channel="email",
                received_at=datetime.now(UTC),
                object_ref=f"obj{rng.randint(0, 49)}",
                body=body,
                channel_meta={"sender": f"s{rng.randint(0, 3000)}@example.org"},
            )
        )
    return tips


def bench_sink(url: str) -> tuple[float, float]:
    """(rows/s wall, client CPU µs per row) for SINK_ROWS scored tips in batches of 500."""
    tips = [
        ScoredTip(
            tip_id=f"sink-{i}",
            channel="web",
            received_at=datetime.now(UTC),
            object_ref=f"obj{i % 50}",
            body="Ich habe diese Tasche bei Lidl in Graz gesehen " * 6,
            cluster=Cluster(
                cluster_id=f"c{i // 3}",
                representative_tip_id=f"sink-{i - i % 3}",
                size=1,
                distinct_senders=1,
            ),
            score=50,
        )
        for i in range(SINK_ROWS)
    ]

    async def run() -> tuple[float, float]:
        writer = TipWriter(url, crowd=crowd_rule())  # as the worker writes
        await writer.write(tips[:10])
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(10, len(tips), 500):
            await writer.write(tips[i : i + 500])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        await writer.close()
        return (len(tips) - 10) / elapsed, cpu / (len(tips) - 10) * 1e6

    return asyncio.run(run())


class Sampler(threading.Thread):
    """Peak RSS of each worker process."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.procs = [psutil.Process(pid) for pid in pids]
        self.peaks = [0] * len(pids)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for i, proc in enumerate(self.procs):
                with contextlib.suppress(psutil.Error):  # it ended: keep its peak
                    self.peaks[i] = max(self.peaks[i], proc.memory_info().rss)
            time.sleep(0.2)


def services_cpu(pg_dir: Path) -> dict[str, float]:
    """CPU seconds so far of the embedded broker and of our PostgreSQL (its postmaster, with the
    backends it reaped, and the live ones): the rest of the machine a tip costs."""
    found = {"broker": 0.0, "postgres": 0.0}
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "--listener-url" in proc.cmdline():
                times = proc.cpu_times()
                found["broker"] += times.user + times.system
    for proc in psutil.process_iter(["cmdline"]):
        args = proc.info["cmdline"] or []
        if "-D" not in args or not any(a.startswith(str(pg_dir)) for a in args):
            continue
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            found["postgres"] += sum(times[:4])  # user, system and the reaped children's
            for child in proc.children():
                with contextlib.suppress(psutil.Error):
                    times = child.cpu_times()
                    found["postgres"] += times.user + times.system
    return found


def cpu_seconds(pids: list[int]) -> list[float]:
    times = [psutil.Process(pid).cpu_times() for pid in pids]
    return [t.user + t.system for t in times]


def assignments(log: str) -> set[tuple[str, str]]:
    """The (stage, partition) pairs a worker holds now, from the runner's assign/revoke lines."""
    held: set[tuple[str, str]] = set()
    for line in log.splitlines():
        if ": assigned " in line:
            stage, _, tp = line.rpartition(": assigned ")
            held.add((stage.rsplit(" ", 1)[-1], tp.strip()))
        elif ": revoked " in line:
            stage, _, rest = line.rpartition(": revoked ")
            held.discard((stage.rsplit(" ", 1)[-1], rest.split(";", 1)[0].strip()))
    return held


def wait_group(logs: list[Path], procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """Until every worker is ready and the group's partitions are split between all of them
    (the embedded broker holds a JoinGroup for half the session timeout: a second worker's
    rebalance takes seconds)."""
    deadline = time.monotonic() + timeout
    want = 3 * PARTITIONS  # three consumed topics
    while True:
        texts = [p.read_text(errors="replace") for p in logs]
        held = [assignments(t) for t in texts]
        if (
            all("Ready" in t for t in texts)
            and all(held)
            and sum(len(h) for h in held) == want
            and len(set().union(*held)) == want
        ):
            return
        for proc, text in zip(procs, texts, strict=True):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start or share:\n{text[-2000:]}")
        time.sleep(0.2)


def stored(url: str) -> list[tuple[float, float]]:
    """(received_at, stored_at) epoch seconds of every row."""
    with psycopg.connect(url) as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                "SELECT extract(epoch FROM received_at)::float8,"
                " extract(epoch FROM stored_at)::float8 FROM tips"
            )
        ]


def wait_rows(url: str, n: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM tips").fetchone()
        if row and row[0] >= n:
            return True
        time.sleep(0.2)
    return False


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_mode(
    kafka: str, server: str, passthrough: bool, workers: int, work: Path
) -> dict[str, object]:
    tag = uuid.uuid4().hex[:8]
    url = fresh_database(server)
    settings = Settings(
        kafka=kafka, topic_prefix=f"b{tag}.", app_id=f"bench-{tag}", partitions=PARTITIONS
    )
    topics = Topics.from_settings(settings)
    ensure_topics(kafka, topics, PARTITIONS, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(
        TIPLINE_KAFKA=kafka,
        TIPLINE_DATABASE_URL=url,
        TIPLINE_TOPIC_PREFIX=settings.topic_prefix,
        TIPLINE_APP_ID=settings.app_id,
        TIPLINE_SENDER_KEY_SECRET=SECRET,
        TIPLINE_PASSTHROUGH="true" if passthrough else "false",
        TIPLINE_METRICS_INTERVAL="5",
        TIPLINE_SINK_BATCH_SECONDS="0.05",
        # Any free port: another worker on the machine (a test, a second bench) holds 9400.
        TIPLINE_OPS_PORT="0",
    )
    env.update(WORKER_ENV)
    logs = [work / f"worker-{tag}-{n}.log" for n in range(workers)]
    procs: list[subprocess.Popen[bytes]] = []
    spies: list[subprocess.Popen[bytes]] = []
    for n, log_path in enumerate(logs):
        with log_path.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tipline", "worker"],
                    env={**env, "TIPLINE_DATA_DIR": str(work / tag / str(n))},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        wait_group(logs, procs, 180)
        pids = [p.pid for p in procs]
        if PROFILE:
            mode = "passthrough" if passthrough else "pipeline"
            spies = [
                subprocess.Popen(
                    [
                        *(PYSPY, "record", "--pid", str(pid), "--nonblocking", "-r", "50"),
                        *("-f", "raw", "-o", f"{PROFILE}/{mode}-{workers}-{n}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for n, pid in enumerate(pids)
            ]
        sampler = Sampler(pids)
        sampler.start()
        cpu0 = cpu_seconds(pids)
        services0 = services_cpu(work / "pg")
        # 1. burst at full speed
        burst = make_tips(BURST, seed=1)
        with TipProducer(kafka, topics.raw) as producer:
            t0 = time.time()
            producer.submit_many(burst)
            done = wait_rows(url, BURST, 300)
        rows = stored(url)
        t_end = max(s for _, s in rows)
        burst_rate = len(rows) / (t_end - t0) if done else float("nan")
        cpu_burst = cpu_seconds(pids)
        # 2. fixed rate
        paced = make_tips(RATE * RATE_SECONDS, seed=2, start=BURST)
        with TipProducer(kafka, topics.raw, linger_ms=1) as producer:
            start = time.time()
            for i in range(0, len(paced), RATE // 10):
                chunk = [
                    t.model_copy(update={"received_at": datetime.now(UTC)})
                    for t in paced[i : i + RATE // 10]
                ]
                producer.submit_many(chunk)
                time.sleep(max(0.0, start + (i + RATE // 10) / RATE - time.time()))
            wait_rows(url, BURST + len(paced), 120)
        all_rows = stored(url)
        paced_rows = [(r, s) for r, s in all_rows if r >= start - 1]
        delays = [s - r for r, s in paced_rows]
        cpu1 = cpu_seconds(pids)
        services1 = services_cpu(work / "pg")
        sampler.stop.set()
        steps = [
            line.split("since start: ", 1)[1]
            for line in logs[0].read_text(errors="replace").splitlines()
            if "since start: " in line
        ]
        return {
            "mode": "passthrough" if passthrough else "pipeline",
            "workers": workers,
            "burst_tips_per_s": burst_rate,
            "rate": RATE,
            "p50_ms": pct(delays, 0.5) * 1000,
            "p99_ms": pct(delays, 0.99) * 1000,
            "paced_stored": len(paced_rows),
            "cpu_s": sum(cpu1) - sum(cpu0),
            "cpu_each_s": [b - a for a, b in zip(cpu0, cpu1, strict=True)],
            "burst_cpu_s": sum(cpu_burst) - sum(cpu0),
            "services_cpu_s": {k: services1[k] - services0[k] for k in services1},
            "tips": len(all_rows),
            "peak_rss_mb": sum(sampler.peaks) / 2**20,
            "rss_each_mb": [p / 2**20 for p in sampler.peaks],
            "steps_us": steps[-1] if steps else "",
            "series": sorted(s for _, s in all_rows),
            "t0": t0,
        }
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(30)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def chart(results: list[dict[str, object]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for res in results:
        series = res["series"]
        assert isinstance(series, list)
        t0 = float(res["t0"])  # type: ignore[arg-type]
        buckets: dict[int, int] = {}
        for s in series:
            buckets[int(s - t0)] = buckets.get(int(s - t0), 0) + 1
        xs = sorted(buckets)
        ax.plot(xs, [buckets[x] for x in xs], label=f"{res['mode']}, {res['workers']} worker(s)")
    ax.set_xlabel("seconds since the burst was produced")
    ax.set_ylabel("rows stored per second")
    ax.set_title(f"burst of {BURST}, then {RATE} tips/s for {RATE_SECONDS} s")
    ax.legend()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_pipeline.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="tipline-bench-"))
    work.chmod(0o755)
    try:
        with (
            embedded_kafka(log_file=work / "broker.log") as kafka,
            embedded_postgres(work / "pg") as server,
        ):
            # The sink alone is bench_sink.py's figure, in the same `make bench`.
            results = [
                run_mode(kafka, server, mode == "passthrough", workers, work)
                for workers in WORKERS
                for mode in ("passthrough", "pipeline")
                if mode in MODES
            ]
        for res in results:
            tips = int(res["tips"])  # type: ignore[call-overload]
            cpu = float(res["cpu_s"])  # type: ignore[arg-type]
            burst_cpu = float(res["burst_cpu_s"])  # type: ignore[arg-type]
            rate = float(res["burst_tips_per_s"])  # type: ignore[arg-type]
            each_cpu = " + ".join(f"{c:.1f}" for c in res["cpu_each_s"])  # type: ignore[attr-defined]
            each_rss = " + ".join(f"{m:.0f}" for m in res["rss_each_mb"])  # type: ignore[attr-defined]
            print(
                f"{res['mode']:<12} {res['workers']} worker(s): burst {rate:,.0f} tips/s "
                f"({burst_cpu / (BURST / rate) * 100:.0f} % of a core, summed) | "
                f"at {res['rate']}/s: p50 {res['p50_ms']:.0f} ms, p99 {res['p99_ms']:.0f} ms "
                f"({res['paced_stored']} tips) | worker CPU {cpu:.1f} s ({each_cpu}) for "
                f"{tips} tips ({cpu / tips * 1e6:,.0f} µs per tip, summed), peak RSS "
                f"{res['peak_rss_mb']:.0f} MB ({each_rss})"
            )
            services = res["services_cpu_s"]
            print(
                f"{'':<12} broker CPU {services['broker'] / tips * 1e6:,.0f} µs per tip, "  # type: ignore[index]
                f"PostgreSQL CPU {services['postgres'] / tips * 1e6:,.0f} µs per tip"  # type: ignore[index]
            )
            print(f"{'':<12} mean µs per step (first worker): {res['steps_us']}")
        best: dict[str, dict[str, object]] = {}
        for res in results:
            mode = str(res["mode"])
            if mode not in best or float(res["burst_tips_per_s"]) > float(  # type: ignore[arg-type]
                best[mode]["burst_tips_per_s"]  # type: ignore[arg-type]
            ):
                best[mode] = res
        for mode, res in best.items():
            print(
                f"headline {mode}: {res['workers']} worker(s), the faster burst: "
                f"{res['burst_tips_per_s']:,.0f} tips/s, p99 at {res['rate']}/s "
                f"{res['p99_ms']:.0f} ms"
            )
        if len(best) == 2:
            ratio = float(best["pipeline"]["burst_tips_per_s"]) / float(  # type: ignore[arg-type]
                best["passthrough"]["burst_tips_per_s"]  # type: ignore[arg-type]
            )
            print(
                f"pipeline/passthrough ratio (headlines): {ratio:.2f} (goal ≥ 0.5); "
                "goals: ≥ 1,000 tips/s, p99 ≤ 500 ms at 500/s"
            )
        print(f"chart: {chart(results)}")
    finally:
        if KEEP:  # the broker's and workers' logs, for a look after the run
            shutil.copytree(work, KEEP, dirs_exist_ok=True, ignore=shutil.ignore_patterns("pg"))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
