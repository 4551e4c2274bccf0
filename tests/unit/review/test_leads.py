"""Lead packages without I/O: ids, CSV cells, the CSV itself, selections."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.leads import (
    CSV_COLUMNS,
    LeadError,
    LeadIn,
    LeadObject,
    LeadPackage,
    LeadTip,
    Selection,
    check_lead,
    new_lead_id,
    package_csv,
    parse_tip_ids,
    safe_cell,
)
from schemas.tip import Evidence


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Rossmann in Graz", "Rossmann in Graz"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_that_a_spreadsheet_would_evaluate_are_prefixed(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


@given(st.text())
def test_no_cell_starts_like_a_formula(text: str) -> None:
    assert not safe_cell(text).startswith(("=", "+", "-", "@", "\t", "\r"))


def _package(*bodies: str) -> LeadPackage:
    tips = tuple(
        LeadTip(
            tip_id=f"w-{i}",
            received_at=datetime(2026, 11, 30, 10, tzinfo=UTC),
            channel="web",
            language="en",
            subject="",
            body=body,
            score=50,
            status="lead",
            evidence=Evidence(shops=("Rossmann",), countries=("PL",)),
            reasons=("names a shop chain: Rossmann +18",),
            attachments=(),
            analyst_notes=("ana: =cmd|' /C calc'!A0",),
        )
        for i, body in enumerate(bodies)
    )
    return LeadPackage(
        package_id="LP-20261201-abcdef",
        country="PL",
        object=LeadObject(object_ref="bag-7"),
        selection=Selection(kind="shop", value="Rossmann"),
        notes="",
        created_by="ana",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        tips=tips,
    )


def test_the_csv_has_one_row_per_tip_and_no_live_formula() -> None:
    text = package_csv(_package('=HYPERLINK("http://x")', 'line one\nline two, "quoted"'))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3
    body = CSV_COLUMNS.index("body")
    assert rows[1][body] == '\'=HYPERLINK("http://x")'
    assert rows[2][body] == 'line one\nline two, "quoted"'
    assert rows[1][CSV_COLUMNS.index("analyst_notes")].startswith("ana:")
    assert rows[1][CSV_COLUMNS.index("shops")] == "Rossmann"


def test_lead_ids_are_dated_and_distinct() -> None:
    ids = {new_lead_id(date(2026, 12, 1)) for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"LP-20261201-[a-z2-7]{6}", i) for i in ids)


def test_tip_ids_are_read_from_pasted_text() -> None:
    assert parse_tip_ids("w-1, w-2\nw-3 w-1;p-x-9") == ("w-1", "w-2", "w-3", "p-x-9")
    with pytest.raises(LeadError):
        parse_tip_ids("w-1 <script>")


@pytest.mark.parametrize(
    "selection",
    [
        Selection(),
        Selection(tip_ids=("w-1",), kind="shop", value="Lidl"),
        Selection(kind="shop", value="  "),
    ],
)
def test_a_lead_chooses_either_tips_or_one_consensus_line(selection: Selection) -> None:
    with pytest.raises(LeadError):
        check_lead(LeadIn(object_ref="bag-7", country="PL", selection=selection))


def test_a_valid_lead_passes() -> None:
    check_lead(LeadIn(object_ref="b", country="PL", selection=Selection(tip_ids=("w-1",))))
    check_lead(LeadIn(object_ref="b", country="PL", selection=Selection(kind="city", value="Graz")))
