"""The follow-up page's reads from the reviewer database: a receipt by lookup id, its questions.

Read-only and the ingest side's own (it never imports ``review/``). The answers do not come
back this way: they are tips, and go through the broker and the pipeline like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ingest.catalogue_db import IngestDatabase

_RECEIPT: Final = """
SELECT r.tip_id, r.secret_hash, t.object_ref
FROM followup_receipts r JOIN tips t ON t.tip_id = r.tip_id
WHERE r.lookup_id = %s
"""
_QUESTIONS: Final = """
SELECT q.id, q.question, q.asked_at
FROM followup_questions q WHERE q.tip_id = %s
ORDER BY q.asked_at DESC, q.id DESC LIMIT 20
"""


@dataclass(frozen=True)
class StoredReceipt:
    tip_id: str
    secret_hash: str
    object_ref: str | None


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    asked_at: datetime


async def find_receipt(db: IngestDatabase, lookup_id: str) -> StoredReceipt | None:
    rows = await db.rows(_RECEIPT, (lookup_id,))
    if not rows:
        return None
    row = rows[0]
    return StoredReceipt(row["tip_id"], row["secret_hash"], row["object_ref"])


async def questions_for(db: IngestDatabase, tip_id: str) -> list[Question]:
    rows = await db.rows(_QUESTIONS, (tip_id,))
    return [Question(r["id"], r["question"], r["asked_at"]) for r in rows]
