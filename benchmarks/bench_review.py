"""Review app latency on a large reviewer database: queue pages, filters, tip, consensus, ops.

Starts the embedded PostgreSQL, fills ``tips``/``clusters`` with N synthetic scored tips in
clusters (one ``generate_series`` INSERT; 1,000,000 by default, ``--tips N`` to change), then
times each endpoint through FastAPI's TestClient (in-process: the figures are app + database,
no network). Prints median, p95 and p99 milliseconds per request, the CPU milliseconds one
request costs (this process, which is app and client, plus every PostgreSQL process: on a
shared machine the wall-clock tail is mostly waiting for a core, CPU time is not) and the
load average the run saw.

Goals (issue #8): claim-next p99 <= 20 ms and a queue page p99 <= 100 ms at 1,000,000 tips.
Claim-next is timed as analysts use it: 50 clusters already held by others, and between two
claims (untimed) a verdict that takes the claimed cluster out of the queue.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from pydantic import SecretStr

from review.api import create_app
from store.migrate import migrate
from tipline.core.settings import Settings
from tipline.embedded import embedded_postgres

N_TIPS = 1_000_000
N_OBJECTS = 40
TOKEN = "bench-token-0123456789abcdef"
REPEATS = 100

# One tip in seven alone, the rest in 60,000 clusters of about three, scores 0-100 with many
# ties, 6 languages, 3 months of receipts, and about one status change in ten already made.
_FILL = """
INSERT INTO tips (tip_id, object_ref, channel, received_at, ingested_at, subject, body, language,
                  language_confidence, sender_key, redactions, evidence, attachments, cluster_id,
                  duplicate_of, similarity, corroboration, score, reasons, score_version, status,
                  record)
SELECT 't' || i,
       'obj' || (i %% %(objects)s),
       (ARRAY['web', 'email', 'social', 'import'])[1 + i %% 4],
       now() - make_interval(secs => (i * 37) %% 7776000),
       now() - make_interval(secs => (i * 11) %% 7200),
       '',
       'Ich habe diese Tasche bei Lidl in Graz gesehen, Nummer ' || i,
       (ARRAY['de', 'pl', 'en', 'fr', 'it', 'cs'])[1 + i %% 6],
       0.9,
       'k1:' || md5('sender' || (i %% 50000)),
       '{}'::jsonb,
       jsonb_build_object('countries', jsonb_build_array((ARRAY['PL','AT','DE','CZ'])[1 + i %% 4]),
                          'shops', jsonb_build_array('Lidl'), 'cities', '[]'::jsonb,
                          'brands', '[]'::jsonb, 'product_ids', '[]'::jsonb,
                          'urls', '[]'::jsonb, 'years', '[]'::jsonb),
       '[]'::jsonb,
       CASE WHEN i %% 7 = 0 THEN NULL ELSE 'c' || ((i * 7919) %% 60000) END,
       NULL, 0.9, '[]'::jsonb,
       (hashtext('s' || i) & 2147483647) %% 101,
       '[{"feature": "shop", "text": "names a shop chain: Lidl", "weight": 20}]'::jsonb,
       'bench',
       CASE WHEN i %% 10 = 0 THEN 'dismissed' ELSE 'new' END,
       '{}'::jsonb
FROM generate_series(1::bigint, %(n)s) i
"""
_CLUSTERS = """
INSERT INTO clusters (cluster_id, object_ref, representative_tip_id, size, distinct_senders,
                      max_score, first_seen, last_seen)
SELECT cluster_id, min(object_ref), min(tip_id), count(*), count(DISTINCT sender_key),
       max(score), min(received_at), max(received_at)
FROM tips WHERE cluster_id IS NOT NULL GROUP BY cluster_id
"""


def _server_cpu_s(data_dir: Path) -> float:
    """CPU seconds used so far by the postmaster's children (the backends among them)."""
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for task in Path(f"/proc/{postmaster}/task").glob("*"):
        for child in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # a backend that just exited
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def timed(
    call: Callable[[], object],
    data_dir: Path,
    repeats: int = REPEATS,
    between: Callable[[object], object] | None = None,
) -> tuple[float, float, float, float]:
    """(median, p95, p99) wall milliseconds and CPU milliseconds per request (app + server)."""
    between_call = between or (lambda _result: None)
    between_call(call())  # warm: plan caches, pool connections
    samples = []
    cpu_ms = 0.0
    for _ in range(repeats):
        cpu0, server0 = time.process_time(), _server_cpu_s(data_dir)
        start = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - start) * 1000)
        cpu_ms += (time.process_time() - cpu0 + _server_cpu_s(data_dir) - server0) * 1000
        between_call(result)
    samples.sort()
    return (
        statistics.median(samples),
        samples[int(len(samples) * 0.95) - 1],
        samples[int(len(samples) * 0.99) - 1],
        cpu_ms / repeats,
    )


def fill(url: str, n_tips: int) -> float:
    """Fill the database with ``n_tips`` tips unless it already holds them; seconds taken."""
    start = time.perf_counter()
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM tips").fetchone()
        if row is not None and row[0] >= n_tips:
            return 0.0
        # A bulk load: the per-statement upkeep of the claim lines is off, then one rebuild.
        conn.execute("ALTER TABLE tips DISABLE TRIGGER tips_claim_lines_insert")
        conn.execute(_FILL, {"n": n_tips, "objects": N_OBJECTS})
        conn.execute("ALTER TABLE tips ENABLE TRIGGER tips_claim_lines_insert")
        conn.execute("SELECT claim_lines_rebuild()")
        conn.execute(_CLUSTERS)
        # Other analysts at work: 50 clusters near the top of the queue are held.
        conn.execute(
            "INSERT INTO claims (unit, analyst, tip_id, expires_at)"
            " SELECT coalesce(cluster_id, 'tip:' || tip_id), 'other' || n, tip_id,"
            "        now() + interval '1 hour'"
            " FROM (SELECT DISTINCT ON (coalesce(cluster_id, tip_id)) cluster_id, tip_id,"
            "       score, row_number() OVER () AS n"
            "       FROM tips WHERE status = 'new' AND score >= 99) top"
            " ORDER BY score DESC LIMIT 50 ON CONFLICT DO NOTHING"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tips")
        conn.execute("VACUUM ANALYZE clusters")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tips", type=int, default=N_TIPS)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="keep the database in this folder and reuse it next time (the fill is the slow "
        "part); by default a temporary one, removed at the end",
    )
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed requests per case")
    args = parser.parse_args()
    n_tips = args.tips
    parent = args.data or Path(tempfile.mkdtemp(prefix="tipline-bench-review-"))
    parent.mkdir(parents=True, exist_ok=True)
    parent.chmod(0o755)
    try:
        with embedded_postgres(parent / "data") as url:
            migrate(url)
            fill_s = fill(url, n_tips)
            settings = Settings(
                database_url=SecretStr(url),
                data_dir=parent / "app",
                review_tokens={"bench": SecretStr(TOKEN)},
                review_secure_cookies=False,
            )
            headers = {"authorization": f"Bearer {TOKEN}"}
            with TestClient(create_app(settings)) as client:

                def get(path: str) -> Callable[[], object]:
                    def call() -> object:
                        answer = client.get(path, headers=headers)
                        assert answer.status_code == 200, answer.text
                        return answer

                    return call

                cursor = None
                for _ in range(20):
                    body = client.get(
                        "/api/queue?limit=50" + (f"&after={cursor}" if cursor else ""),
                        headers=headers,
                    ).json()
                    cursor = body["next"]
                cases = [
                    ("queue, first page (50)", get("/api/queue?limit=50")),
                    ("queue, page 21 (keyset)", get(f"/api/queue?limit=50&after={cursor}")),
                    ("queue, one object", get("/api/queue?object=obj7&limit=50")),
                    ("queue, object + language", get("/api/queue?object=obj7&language=pl")),
                    ("queue, dismissed", get("/api/queue?status=dismissed&limit=50")),
                    ("queue page (HTML)", get("/queue")),
                    ("queue, search 'Graz' (50)", get("/api/queue?q=Graz&limit=50")),
                    ("one line per claim (HTML)", get("/queue/claims")),
                    ("one line per claim, one object", get("/queue/claims?object=obj7")),
                    ("queue, with photo", get("/api/queue?photos=true&limit=50")),
                    ("consensus, one object", get("/api/objects/obj7/consensus")),
                    ("ops, 60 minutes", get("/api/ops/throughput?minutes=60")),
                    ("ops page (HTML)", get("/ops")),
                    (
                        "media, unknown sha256 (404 probe)",
                        lambda: client.get("/media/" + "ab" * 32, headers=headers),
                    ),
                ]

                def claim() -> object:
                    answer = client.post("/api/claim", headers=headers)
                    assert answer.status_code == 200, answer.text
                    return answer.json()["tip_id"]

                def decide(tip_id: object) -> None:
                    answer = client.post(
                        f"/api/tips/{tip_id}/verdict",
                        json={"reason": "not_relevant"},
                        headers=headers,
                    )
                    assert answer.status_code == 200, answer.text

                print(f"review app, {n_tips:,} tips in {N_OBJECTS} objects (fill {fill_s:.1f} s)")
                print(f"load average before: {os.getloadavg()}")
                print(
                    f"{'request':<36} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'CPU ms':>8}"
                )
                data_dir = parent / "data"
                median, p95, p99, cpu = timed(claim, data_dir, args.repeats, between=decide)
                print(
                    f"{'claim next (goal p99 <= 20)':<36} {median:>10.1f} {p95:>8.1f} {p99:>8.1f}"
                    f" {cpu:>8.2f}"
                )
                for name, call in cases:
                    median, p95, p99, cpu = timed(call, data_dir, args.repeats)
                    print(f"{name:<36} {median:>10.1f} {p95:>8.1f} {p99:>8.1f} {cpu:>8.2f}")
                print(f"load average after: {os.getloadavg()}")
    finally:
        if args.data is None:
            shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
