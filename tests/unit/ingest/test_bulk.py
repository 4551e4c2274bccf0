"""Bulk import: JSONL and CSV with good and bad rows, idempotent ids, rejects file, batching."""

from __future__ import annotations

import csv
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.bulk import import_file, row_tip_id, row_to_tip
from ingest.memory import MemorySink
from ingest.tip_ids import TipIds
from schemas.tip import MAX_BODY_CHARS, RawTip
from tipline.core.errors import InvalidInputError, TransientError

SECRET_TEXT = "Tasche gesehen bei Hofer in Linz"

IDS = TipIds(b"test-tip-id-secret-0123456789")


class BatchMemorySink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def submit_many(self, tips: list[RawTip]) -> int:
        self.batches.append(len(tips))
        self.tips.extend(tips)
        return len(tips)


GOOD = [
    {"id": "p-1", "text": SECRET_TEXT, "subject": "Tasche", "object_ref": "OBJ-1",
     "received_at": "2024-06-01T08:00:00Z", "channel": "hotline"},
    {"id": "p-2", "body": "Seen at Tesco, Brno", "received_at": "2024-06-01T10:00:00+02:00"},
    {"text": "no id, hashed content"},
    {"id": "weird id/with spaces", "text": "hashed id"},
]  # fmt: skip
BAD = [
    ({"id": "b-1"}, "no text"),
    ({"id": "b-2", "text": "x" * (MAX_BODY_CHARS + 1)}, "body"),
    ({"id": "b-3", "text": "x", "object_ref": "../etc"}, "object_ref"),
    ({"id": "b-4", "text": "x", "received_at": "yesterday"}, "ISO 8601"),
    ({"id": "b-5", "text": "x", "received_at": "2024-06-01T08:00:00"}, "time zone"),
    ({"id": "b-6", "text": ["not", "a", "string"]}, "must be a string"),
]


def write_jsonl(path: Path, extra_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    lines = [json.dumps(r) for r in GOOD] + [json.dumps(r) for r, _ in BAD] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, object]], bom: bool = False) -> Path:
    fields = ["id", "text", "body", "subject", "object_ref", "received_at", "channel", "email"]
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def rejects(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_good_and_bad_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    src = write_jsonl(tmp_path / "export.jsonl", ["not json", "[1,2]", ""])
    sink = MemorySink()
    with caplog.at_level(logging.DEBUG):
        summary = import_file(
            src, sink, ids=IDS, rejects_path=tmp_path / "rej.jsonl", progress=False
        )
    assert (summary.rows, summary.accepted, summary.rejected) == (12, 4, 8)
    assert [t.channel for t in sink.tips] == ["import"] * 4
    first = sink.tips[0]
    assert (first.subject, first.object_ref) == ("Tasche", "OBJ-1")
    assert first.tip_id == IDS.derive("i-h", "import-id", "", "p-1")
    assert first.received_at == datetime(2024, 6, 1, 8, tzinfo=UTC)
    assert first.channel_meta["source_channel"] == "hotline"
    assert sink.tips[1].received_at == datetime(2024, 6, 1, 8, tzinfo=UTC)
    assert sink.tips[2].tip_id.startswith("i-c")
    assert sink.tips[3].tip_id.startswith("i-h")
    records = rejects(tmp_path / "rej.jsonl")
    for record, (row, reason) in zip(records, BAD, strict=False):
        assert reason in str(record["reason"])
        assert record["row"] == row
    assert [r["line"] for r in records[-2:]] == [11, 12]
    assert SECRET_TEXT not in caplog.text
    assert "xxxxxxxx" not in caplog.text


def test_csv_with_bom_extra_columns_and_bad_rows(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {**GOOD[0], "email": "tipster@example.net"},
        GOOD[1],
        {"id": "b-1", "text": ""},
        {"id": "multi", "text": "line one\nline two, with comma"},
    ]
    src = write_csv(tmp_path / "export.csv", rows, bom=True)
    with src.open("a", encoding="utf-8") as f:
        f.write("too,few\n")
    sink = MemorySink()
    summary = import_file(src, sink, ids=IDS, rejects_path=tmp_path / "rej.jsonl", progress=False)
    assert (summary.accepted, summary.rejected) == (3, 2)
    assert sink.tips[0].tip_id == IDS.derive("i-h", "import-id", "", "p-1")
    assert sink.tips[2].body == "line one\nline two, with comma"
    assert all("tipster@" not in t.model_dump_json() for t in sink.tips)
    reasons = [r["reason"] for r in rejects(tmp_path / "rej.jsonl")]
    assert reasons[0].startswith("no text")
    assert "fields" in reasons[1]


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "e.jsonl")
    a, b = MemorySink(), MemorySink()
    import_file(src, a, ids=IDS, rejects_path=tmp_path / "r1", progress=False)
    import_file(src, b, ids=IDS, rejects_path=tmp_path / "r2", progress=False)
    assert [t.tip_id for t in a.tips] == [t.tip_id for t in b.tips]


def test_source_namespaces_ids(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "e.jsonl")
    sink = MemorySink()
    import_file(src, sink, ids=IDS, rejects_path=tmp_path / "r", progress=False, source="ngo-a")
    assert sink.tips[0].tip_id == IDS.derive("i-ngo-a-h", "import-id", "ngo-a", "p-1")
    with pytest.raises(InvalidInputError):
        import_file(src, sink, ids=IDS, rejects_path=tmp_path / "r", progress=False, source="a b")


def test_batch_sink_gets_batches(tmp_path: Path) -> None:
    src = tmp_path / "many.jsonl"
    src.write_text("\n".join(json.dumps({"id": str(i), "text": "t"}) for i in range(1201)))
    sink = BatchMemorySink()
    summary = import_file(src, sink, ids=IDS, rejects_path=tmp_path / "r", progress=True)
    assert summary.accepted == 1201
    assert sink.batches == [500, 500, 201]


def test_sink_failure_stops_the_import(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "e.jsonl")
    with pytest.raises(TransientError):
        import_file(
            src, MemorySink(fail_after=1), ids=IDS, rejects_path=tmp_path / "r", progress=False
        )


def test_unknown_format_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        import_file(tmp_path / "x.xlsx", MemorySink(), ids=IDS, rejects_path=tmp_path / "r")
    src = tmp_path / "latin.jsonl"
    src.write_bytes(b'{"id": "1", "text": "ok"}\n{"id": "2", "text": "Stra\xdfe"}\n')
    sink = MemorySink()
    summary = import_file(src, sink, ids=IDS, rejects_path=tmp_path / "r", progress=False)
    assert summary.rejected >= 1
    assert "UTF-8" in rejects(tmp_path / "r")[-1]["reason"]


@given(
    st.dictionaries(
        st.sampled_from(["id", "text", "body", "subject", "object_ref", "received_at", "x"]),
        st.one_of(st.text(max_size=40), st.integers(), st.none(), st.lists(st.integers())),
    )
)
def test_any_row_is_a_tip_or_a_clean_refusal(row: dict[str, object]) -> None:
    try:
        tip = row_to_tip(row, ids=IDS, now=datetime(2024, 1, 1, tzinfo=UTC))
    except InvalidInputError as exc:
        for value in row.values():
            if isinstance(value, str) and len(value) > 12:
                assert value not in exc.reason
        return
    assert tip.tip_id.startswith("i-")
    assert tip.tip_id == row_tip_id(row, tip.body, "", IDS)


def test_row_ids_are_keyed(tmp_path: Path) -> None:
    """The exporting system's row id must not lead to the tip (issue 9 item 5)."""
    row: dict[str, object] = {"id": "p-1", "text": "Tasche bei Kik"}
    tip = row_to_tip(row, ids=IDS)
    other = row_to_tip(row, ids=TipIds(b"another-secret-0123456789"))
    assert "p-1" not in tip.tip_id
    assert tip.tip_id != other.tip_id
    assert tip.tip_id == row_to_tip(row, ids=IDS).tip_id
