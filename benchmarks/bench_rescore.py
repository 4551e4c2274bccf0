"""Re-scoring in the sink: cost per batch as one object's history grows to 100k tips.

One object, every tip naming the same shop and country (a press-release flood: the claims every
batch touches are the biggest there are). Earlier tips are written through the real sink; at
1k, 10k and 100k stored tips, batches of 500 new tips from new tipsters are timed with re-scoring
on and off (off: claim counts still kept, no rewrite), so the difference is the re-score
statement. Then the worst case the design allows: a claim that many tips of one sender name
(a tenth of the history) gets its second tipster, and all its members are rewritten once.

The database does the work: the figure is the CPU time of the writer's PostgreSQL backend
process (psutil; 10 ms ticks, hence means), wall time in brackets is distorted by whatever else
shares the machine. Set BENCH_RESCORE_TIPS for a shorter run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from fresh_db import fresh_database

from processors.app import crowd_rule
from schemas import Cluster, Evidence, Reason, ScoredTip
from store.sink import TipWriter
from tipline.embedded import embedded_postgres

TOTAL = int(os.environ.get("BENCH_RESCORE_TIPS", "100000"))
CHECKPOINTS = [n for n in (1_000, 10_000, 100_000) if n <= TOTAL]
BATCH = 500
SAMPLES = 8
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CITIES = ("Vienna", "Graz", "Linz", "Salzburg", "Innsbruck")


def tip(n: int, sender: str | None, *, brand: str | None = None) -> ScoredTip:
    """A tip about the bench object naming Rossmann; with ``brand``, one about another object
    naming only that brand."""
    evidence = (
        Evidence(brands=(brand,))
        if brand
        else Evidence(countries=("AT",), cities=(CITIES[n % 5],), shops=("Rossmann",))
    )
    return ScoredTip(
        tip_id=f"b-{n:07d}",
        channel="email",
        received_at=START + timedelta(seconds=n),
        object_ref="flood" if brand else "bench",
        body=f"Seen it at Rossmann in {CITIES[n % 5]}, number {n}",
        sender_key=sender,
        evidence=evidence,
        cluster=Cluster(
            cluster_id=f"c-{n // 4}",
            representative_tip_id=f"b-{n - n % 4:07d}",
            size=1,
            distinct_senders=1,
        ),
        # As triage scores them once the flood is under way (its in-memory counts agree with the
        # database's), so a new tip is rewritten only where the database knows better.
        reasons=(
            Reason(feature="base", text="starting score", weight=20),
            Reason(feature="shop", text="names a shop chain: Rossmann", weight=18),
            Reason(
                feature="agree",
                text="at least 4 independent tipsters agree on shop Rossmann",
                weight=15,
            ),
        )
        if not brand
        else (Reason(feature="base", text="starting score", weight=20),),
        score=53 if not brand else 20,
        score_version="2.0",
    )


async def backend(writer: TipWriter) -> psutil.Process:
    """The PostgreSQL backend process serving this writer's connection."""
    conn = await writer._connection()
    cur = await conn.execute("SELECT pg_backend_pid()")
    row = await cur.fetchone()
    await conn.rollback()  # end the implicit transaction: the writer opens its own
    assert row is not None
    return psutil.Process(int(row[0]))


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def timed(writer: TipWriter, batch: list[ScoredTip]) -> tuple[float, float]:
    """(wall s, CPU s of the database backend) of one batch, commit included."""
    process = await backend(writer)
    start, start_cpu = time.perf_counter(), cpu(process)
    await writer.write(batch)
    return time.perf_counter() - start, cpu(process) - start_cpu


async def run(url: str) -> None:
    on = TipWriter(url, crowd=crowd_rule())
    off = TipWriter(url)
    n = 0
    print(f"one object, batches of {BATCH}, mean of {SAMPLES} batches each way")
    print("database backend CPU ms per batch (wall ms in brackets: the machine is shared)")
    print(f"{'stored tips':>12} {'re-score on':>16} {'off':>16} {'re-score µs/tip CPU':>20}")
    fill_start = time.perf_counter()
    for checkpoint in CHECKPOINTS:
        while n < checkpoint:
            # 1 tipster in 20 anonymous, the others one of 5,000 senders.
            size = min(2_000, checkpoint - n)
            batch = [
                tip(i, None if i % 20 == 0 else f"k1:{i % 5000:032x}") for i in range(n, n + size)
            ]
            await on.write(batch)
            n += size
        samples: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
        for k in range(SAMPLES * 2):
            which = "on" if k % 2 == 0 else "off"
            # 500 new tipsters: every claim of the object changes its count.
            batch = [tip(i, f"k1:new{i:028x}") for i in range(n, n + BATCH)]
            samples[which].append(await timed(on if which == "on" else off, batch))
            n += BATCH
        # Means: CPU times tick in 10 ms, a median would round them.
        wall = {w: statistics.mean(x[0] for x in v) * 1000 for w, v in samples.items()}
        used = {w: statistics.mean(x[1] for x in v) * 1000 for w, v in samples.items()}
        print(
            f"{checkpoint:>12,} {used['on']:>7.1f} ({wall['on']:>6.0f}) "
            f"{used['off']:>7.1f} ({wall['off']:>6.0f}) "
            f"{(used['on'] - used['off']) * 1000 / BATCH:>20.0f}"
        )
    fill = time.perf_counter() - fill_start
    print(f"sink with re-scoring, filling: {n:,} tips in {fill:.1f} s ({n / fill:,.0f} rows/s)")

    # Worst case: a claim named by many tips of one sender, then a second tipster.
    flood = [tip(n + i, "k1:" + "f" * 32, brand="Samsonite") for i in range(TOTAL // 10)]
    for i in range(0, len(flood), 2_000):
        await on.write(flood[i : i + 2_000])
    n += len(flood)
    second = [tip(n, "k1:" + "e" * 32, brand="Samsonite")]
    elapsed, used_cpu = await timed(on, second)
    with psycopg.connect(url) as conn:
        rewritten = conn.execute(
            "SELECT count(*) FROM tips WHERE reasons @> %s::jsonb",
            ('[{"feature": "agree", "text": "2 independent tipsters agree on brand Samsonite"}]',),
        ).fetchone()
    count = rewritten[0] if rewritten else 0
    print(
        f"worst case: second tipster for a claim of {len(flood):,} tips: "
        f"{used_cpu * 1000:.0f} ms backend CPU ({elapsed * 1000:.0f} ms wall), {count:,} rows "
        f"rewritten once ({used_cpu * 1e6 / max(count, 1):.0f} µs CPU per row)"
    )
    await on.close()
    await off.close()


def main() -> None:
    parent = Path(tempfile.mkdtemp(prefix="tipline-bench-rescore-"))
    parent.chmod(0o755)
    try:
        with embedded_postgres(parent / "data") as server:
            asyncio.run(run(fresh_database(server, "rescore")))
    finally:
        shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
