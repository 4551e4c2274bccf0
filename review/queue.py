"""The analyst queue: open tips, best first, one line per cluster."""

from __future__ import annotations

from typing import Any

import psycopg

_QUEUE = """
SELECT t.score, t.tip_id, coalesce(t.object_ref, '-'), t.language,
       coalesce(c.size, 1), coalesce(c.distinct_senders, 0), left(t.body, 70)
FROM tips t
LEFT JOIN clusters c ON c.cluster_id = t.cluster_id
WHERE t.status = 'new'
  AND (t.cluster_id IS NULL OR c.representative_tip_id = t.tip_id)
  AND (%(object)s::text IS NULL OR t.object_ref = %(object)s)
ORDER BY t.object_closed, t.score DESC, t.received_at
LIMIT %(limit)s
"""


def queue(url: str, *, object_ref: str | None = None, limit: int = 20) -> list[tuple[Any, ...]]:
    """Top open tips: one representative per cluster, highest score first (closed objects last)."""
    with psycopg.connect(url) as conn:
        return conn.execute(_QUEUE, {"object": object_ref, "limit": limit}).fetchall()


def print_queue(url: str, *, object_ref: str | None = None, limit: int = 20) -> None:
    rows = queue(url, object_ref=object_ref, limit=limit)
    print(f"{'score':>5}  {'tip':<38} {'object':<8} {'lang':<4} {'tips':>5} {'tipsters':>8}  text")
    for score, tip_id, obj, lang, size, senders, text in rows:
        flat = " ".join(text.split())
        print(f"{score:>5}  {tip_id:<38} {obj:<8} {lang:<4} {size:>5} {senders:>8}  {flat}")
    if not rows:
        print("(no open tips yet)")
