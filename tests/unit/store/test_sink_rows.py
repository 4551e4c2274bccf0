"""The sink's JSON rows: the fast pydantic path gives the rows the dict path gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from schemas import Cluster, ScoredTip
from schemas.tip import FollowUpReceipt
from store.sink import _COLUMNS, _NOT_RECORD, rows_json, tip_row, tip_row_json

RECEIPT = FollowUpReceipt(
    lookup_id="abcdefgh23", secret_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA"
)


def _tips() -> list[ScoredTip]:
    base = ScoredTip(
        tip_id="t-1",
        channel="web",
        received_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        body='Ich habe "diese" Tasche bei Łódź\\Lidl gesehen ✓ \u2028 end',
    )
    return [
        base,
        base.model_copy(
            update={
                "tip_id": "t-2",
                "cluster": Cluster(
                    cluster_id="c1",
                    representative_tip_id="t-1",
                    size=2,
                    distinct_senders=1,
                    duplicate_of="t-1",
                    similarity=0.93,
                ),
                "score": 42,
                "sealed_contact": "A" * 64,
                "receipt": RECEIPT,
                "object_ref": "obj1",
                "object_refs": ("obj1", "obj2"),
            }
        ),
    ]


@pytest.mark.parametrize("tip", _tips(), ids=lambda t: t.tip_id)
def test_json_row_matches_the_dict_row(tip: ScoredTip) -> None:
    fast = json.loads(tip_row_json(tip))
    columns = [k for k in _COLUMNS if k != "record"]
    assert {k: fast.get(k) for k in columns} == {k: tip_row(tip).get(k) for k in columns}
    # The server makes the record column from the row without the keys that are not the tip.
    assert _record(fast) == tip_row(tip)["record"]


def _record(row: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in row.items() if k not in _NOT_RECORD}


def test_the_receipt_never_travels_and_the_record_holds_no_contact() -> None:
    tip = _tips()[1]
    row = json.loads(tip_row_json(tip))
    assert "receipt" not in row
    assert row["sealed_contact"] == "A" * 64
    assert "sealed_contact" not in _record(row) and "receipt" not in _record(row)
    assert row["cluster_id"] == "c1" and row["similarity"] == 0.93


def test_batch_is_one_json_array() -> None:
    rows = json.loads(rows_json(_tips()))
    assert [r["tip_id"] for r in rows] == ["t-1", "t-2"]
