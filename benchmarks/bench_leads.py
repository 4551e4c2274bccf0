"""Lead packages on a reviewer database of 1,000,000 tips: build one of 500 tips and render it.

Starts the embedded PostgreSQL, fills ``tips`` with N synthetic scored tips over 40 objects
(straight SQL; the text-search and attachment indexes are built after the fill, as a restore
would), then times through FastAPI's TestClient (in-process: app + database, no network):

    build by ids      POST /api/leads with 500 tip ids of one object
    build by value    POST /api/leads for every tip naming one shop (about 500 tips)
    JSON / CSV / HTML the package's three downloads

Goal (issue 8): building a 500-tip package and downloading it ≤ 2 s. Prints median and worst
of REPEATS runs; the machine is shared, so treat the figures as noisy.
"""

from __future__ import annotations

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
PACKAGE = 500
TOKEN = "bench-token-0123456789abcdef"
REPEATS = 5

# Every 50th tip of an object names Rossmann (25,000 tips per object → 500 per package).
_FILL = """
INSERT INTO tips (tip_id, object_ref, channel, received_at, ingested_at, subject, body, language,
                  language_confidence, sender_key, redactions, evidence, attachments, cluster_id,
                  corroboration, score, reasons, score_version, status, record)
SELECT 't' || i,
       'obj' || (i %% %(objects)s),
       'web',
       now() - make_interval(secs => (i * 37) %% 7776000),
       now(),
       '',
       'Ich habe diese Tasche bei ' || CASE WHEN i %% 2000 < 40 THEN 'Rossmann' ELSE 'Lidl' END
           || ' in Graz gesehen, Nummer ' || i || repeat(' und noch mehr Text', 10),
       'de', 0.9,
       'k1:' || md5('sender' || (i %% 50000)),
       '{}'::jsonb,
       jsonb_build_object(
           'countries', jsonb_build_array('AT'),
           'shops', jsonb_build_array(CASE WHEN i %% 2000 < 40 THEN 'Rossmann' ELSE 'Lidl' END),
           'cities', jsonb_build_array('Graz'), 'brands', '[]'::jsonb,
           'product_ids', '[]'::jsonb, 'urls', '[]'::jsonb, 'years', '[]'::jsonb),
       CASE WHEN i %% 10 = 0 THEN jsonb_build_array(jsonb_build_object(
           'sha256', md5('p' || i) || md5('q' || i), 'media_type', 'image/jpeg',
           'size', 1000, 'width', 640, 'height', 480)) ELSE '[]'::jsonb END,
       NULL, '[]'::jsonb,
       (hashtext('s' || i) & 2147483647) %% 101,
       '[{"feature": "shop", "text": "names a shop chain", "weight": 18}]'::jsonb,
       'bench', 'new', '{}'::jsonb
FROM generate_series(1, %(n)s) i
"""
_NOTES = """
INSERT INTO status_changes (change_id, tip_id, from_status, to_status, analyst, note)
SELECT gen_random_uuid(), 't' || i, 'new', 'reviewing', 'bench', 'checked the shop list'
FROM generate_series(1, %(n)s, 7) i
"""
_LATE_INDEXES = ("tip_search_doc", "tips_attachments")


def main() -> None:
    parent = Path(tempfile.mkdtemp(prefix="tipline-bench-leads-"))
    parent.chmod(0o755)
    try:
        with embedded_postgres(parent / "data") as url:
            migrate(url)
            start = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as conn:
                ddl = {
                    name: conn.execute(
                        "SELECT indexdef FROM pg_indexes WHERE indexname = %s", (name,)
                    ).fetchone()[0]  # type: ignore[index]
                    for name in _LATE_INDEXES
                }
                for name in _LATE_INDEXES:
                    conn.execute(f"DROP INDEX {name}")
                # A bulk load: the claim lines' per-statement upkeep is off, then one rebuild.
                conn.execute("ALTER TABLE tips DISABLE TRIGGER tips_claim_lines_insert")
                conn.execute(_FILL, {"n": N_TIPS, "objects": N_OBJECTS})
                conn.execute("ALTER TABLE tips ENABLE TRIGGER tips_claim_lines_insert")
                conn.execute("SELECT claim_lines_rebuild()")
                conn.execute(_NOTES, {"n": N_TIPS})
                for sql in ddl.values():
                    conn.execute(sql)
                conn.execute("VACUUM ANALYZE tips")
                conn.execute("VACUUM ANALYZE status_changes")
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT tip_id FROM tips WHERE object_ref = 'obj7'"
                        " ORDER BY score DESC, tip_id LIMIT %s",
                        (PACKAGE,),
                    )
                ]
                by_value = conn.execute(
                    "SELECT count(*) FROM tips WHERE object_ref = 'obj7'"
                    " AND evidence -> 'shops' ? 'Rossmann'"
                ).fetchone()
            fill_s = time.perf_counter() - start
            settings = Settings(
                database_url=SecretStr(url),
                data_dir=parent / "app",
                review_tokens={"bench": SecretStr(TOKEN)},
                review_secure_cookies=False,
            )
            headers = {"authorization": f"Bearer {TOKEN}"}
            rows: list[tuple[str, list[float]]] = []
            with TestClient(create_app(settings)) as client:

                def build(selection: dict[str, object]) -> str:
                    answer = client.post(
                        "/api/leads",
                        json={"object_ref": "obj7", "country": "AT", "selection": selection},
                        headers=headers,
                    )
                    assert answer.status_code == 201, answer.text
                    return str(answer.json()["package_id"])

                def fetch(path: str) -> int:
                    answer = client.get(path, headers=headers)
                    assert answer.status_code == 200, answer.text
                    return len(answer.content)

                def time_it(name: str, call: Callable[[], object]) -> object:
                    samples = []
                    result: object = None
                    for _ in range(REPEATS):
                        t0 = time.perf_counter()
                        result = call()
                        samples.append(time.perf_counter() - t0)
                    rows.append((name, samples))
                    return result

                build({"tip_ids": ids[:5]})  # warm: pool, plans
                lead = str(time_it("build by 500 ids", lambda: build({"tip_ids": ids})))
                time_it(
                    "build by value (shop)", lambda: build({"kind": "shop", "value": "Rossmann"})
                )
                sizes = {}
                for ext in ("json", "csv"):
                    path = f"/leads/{lead}/package.{ext}"
                    sizes[ext] = time_it(f"download {ext.upper()}", lambda p=path: fetch(p))
                sizes["html"] = time_it("HTML report", lambda: fetch(f"/leads/{lead}"))
                time_it(
                    "build + JSON + CSV + HTML",
                    lambda: [
                        fetch(f"/leads/{(new := build({'tip_ids': ids}))}/package.json"),
                        fetch(f"/leads/{new}/package.csv"),
                        fetch(f"/leads/{new}"),
                    ],
                )
            print(
                f"reviewer database: {N_TIPS:,} tips over {N_OBJECTS} objects "
                f"(filled in {fill_s:.0f} s); package of {PACKAGE} tips "
                f"(by value: {by_value[0] if by_value else '?'} tips)"
            )
            print(
                f"sizes: JSON {sizes['json']:,} B, CSV {sizes['csv']:,} B, HTML {sizes['html']:,} B"
            )
            print(f"{'operation':<28} {'median s':>9} {'worst s':>9}")
            for name, samples in rows:
                print(f"{name:<28} {statistics.median(samples):>9.3f} {max(samples):>9.3f}")
            total = statistics.median(rows[-1][1])
            print(
                f"goal: a 500-tip package built and downloaded in <= 2 s: "
                f"{'met' if total <= 2.0 else 'NOT met'} ({total:.2f} s, median)"
            )
    finally:
        shutil.rmtree(parent, ignore_errors=True)


if __name__ == "__main__":
    main()
