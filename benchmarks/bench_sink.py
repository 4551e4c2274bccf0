"""The sink alone: scored tips into an embedded PostgreSQL, batches of 500 (goal ≥ 20,000 rows/s).

Prints rows/s (wall), the client's CPU µs per row (``time.process_time``) and the server's: the
sink backend's CPU and that of every PostgreSQL process (WAL writer, checkpointer, autovacuum
included), from ``/proc/<pid>/stat`` user + system time, since server and client share a busy
machine and wall time alone says little. ``--text sentence`` (default, as bench_pipeline's sink
figure): one German sentence six times, clusters of 3; ``--text real``: bodies built like
bench_pipeline's tips from tests/data/language sentences (log-normal lengths, median ≈ 270
characters); both otherwise the tips of bench_pipeline's sink figure. ``--drop-index NAME``
drops an index of ``tips`` first, to measure what it costs; ``--sql`` runs a statement first;
``--statements`` also prints the sink backend's CPU per row for each statement (its run time
from ``/proc/<pid>/schedstat``, read around every ``execute``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import psutil
import psycopg
from bench_pipeline import real_parts, sentences
from fresh_db import fresh_database

from processors.app import crowd_rule
from schemas import Cluster, ScoredTip
from store.sink import TipWriter
from tipline.embedded import embedded_postgres

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (any owner: read from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _server_cpu(postmaster: int) -> float:
    total = 0.0
    for proc in [psutil.Process(postmaster), *psutil.Process(postmaster).children()]:
        try:
            total += _cpu_seconds(proc.pid)
        except (OSError, psutil.Error):
            continue
    return total


def _run_ns(pid: int) -> int:
    """Nanoseconds a process has run on a CPU (finer than /proc/<pid>/stat's ticks)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _count_statements(spent: collections.Counter[str]) -> None:
    """Add each statement's backend run time to ``spent``, keyed by its first words."""
    execute = psycopg.AsyncCursor.execute

    async def timed(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        pid = self.connection.info.backend_pid
        before = _run_ns(pid)
        result = await execute(self, query, params, **kw)
        spent[" ".join(str(query).split())[:60]] += _run_ns(pid) - before
        return result

    psycopg.AsyncCursor.execute = timed  # type: ignore[method-assign]


def make_tips(n: int, text: str, seed: int = 7) -> list[ScoredTip]:
    rng = random.Random(seed)
    corpus = sentences()
    tips = []
    for i in range(n):
        if text == "sentence":
            body = "Ich habe diese Tasche bei Lidl in Graz gesehen " * 6
        else:
            body = " ".join(real_parts(rng, corpus))
        tips.append(
            ScoredTip(
                tip_id=f"sink-{i}",
                channel="web",
                received_at=datetime.now(UTC),
                object_ref=f"obj{i % 50}",
                body=body,
                cluster=Cluster(
                    cluster_id=f"c{i // 3}",
                    representative_tip_id=f"sink-{i - i % 3}",
                    size=1,
                    distinct_senders=1,
                ),
                score=50,
            )
        )
    return tips


def bench(
    url: str,
    postmaster: int,
    tips: list[ScoredTip],
    batch: int,
    spent: collections.Counter[str] | None = None,
) -> dict[str, float]:
    async def run() -> dict[str, float]:
        writer = TipWriter(url, crowd=crowd_rule())  # as the worker writes
        await writer.write(tips[:10])
        conn = await writer._connection()  # the benchmark reads its backend
        backend = conn.info.backend_pid
        server, own = _server_cpu(postmaster), _cpu_seconds(backend)
        if spent is not None:
            spent.clear()
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(10, len(tips), batch):
            await writer.write(tips[i : i + batch])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        own = _cpu_seconds(backend) - own
        server = _server_cpu(postmaster) - server
        await writer.close()
        rows = len(tips) - 10
        figures = {
            "rows/s": rows / elapsed,
            "client µs/row": cpu / rows * 1e6,
            "backend µs/row": own / rows * 1e6,
            "server µs/row": server / rows * 1e6,
            "cpu-bound rows/s": rows / (cpu + server),
        }
        # What the GIN indexes' pending lists still owe (merged by a later insert, vacuum or
        # search): nothing much with the default 4 MB limit, all of it with a large one.
        with psycopg.connect(url, autocommit=True) as conn:
            pid = conn.info.backend_pid
            before = _cpu_seconds(pid)
            conn.execute(
                "SELECT gin_clean_pending_list(indexrelid::regclass) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
                " WHERE i.indrelid = 'tips'::regclass AND a.amname = 'gin'"
            )
            figures["pending GIN µs/row"] = (_cpu_seconds(pid) - before) / rows * 1e6
        return figures

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_SINK_ROWS", "20000")))
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--text", choices=("sentence", "real"), default="sentence")
    parser.add_argument("--drop-index", action="append", default=[], metavar="NAME")
    parser.add_argument(
        "--sql", action="append", default=[], help="run on the fresh database first (a what-if)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="fresh database each round")
    parser.add_argument(
        "--statements", action="store_true", help="also the backend's CPU µs/row per statement"
    )
    args = parser.parse_args()
    spent: collections.Counter[str] | None = None
    if args.statements:
        spent = collections.Counter()
        _count_statements(spent)
    tips = make_tips(args.rows, args.text)
    work = Path(tempfile.mkdtemp(prefix="tipline-sink-"))
    work.chmod(0o755)
    try:
        with embedded_postgres(work / "pg") as server:
            postmaster = int((work / "pg" / "postmaster.pid").read_text().split()[0])
            for _ in range(args.rounds):
                url = fresh_database(server, "sink")
                with psycopg.connect(url, autocommit=True) as conn:
                    for name in args.drop_index:
                        conn.execute(f'DROP INDEX "{name}"')
                    for statement in args.sql:
                        conn.execute(statement)
                figures = bench(url, postmaster, tips, args.batch, spent)
                print(
                    f"sink alone ({args.text}, {args.rows} rows, batches of {args.batch}"
                    + (f", without {','.join(args.drop_index)}" if args.drop_index else "")
                    + (f", after {'; '.join(args.sql)}" if args.sql else "")
                    + "): "
                    + ", ".join(f"{k} {v:,.0f}" for k, v in figures.items())
                    + " (goal ≥ 20,000 rows/s)"
                )
                for statement, ns in (spent or collections.Counter()).most_common():
                    print(f"  {ns / (args.rows - 10) / 1e3:6.1f} µs/row  {statement}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
