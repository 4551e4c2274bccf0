"""Unit tests for review/api_queries.py: cursors, queue SQL, status rules, display, ops table."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.api_queries import (
    CHANNELS,
    MAX_PAGE,
    STATUSES,
    TRANSITIONS,
    CursorError,
    QueueCursor,
    QueueFilter,
    can_change,
    minute_table,
    page_of,
    queue_query,
    safe_next,
    short_text,
    tipster_label,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
HEX = "0123456789abcdef"


# --- sender keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "label"),
    [
        (None, "no sender key"),
        ("", "no sender key"),
        ("k1:3f9a12aa55bb66cc77dd88ee99ff0011", "tipster #3f9a12"),
        ("k2:ABCDEF0123456789ABCDEF0123456789", "tipster #abcdef"),
        ("3f9a12aa55bb", "tipster #3f9a12"),  # no key id
        ("k1:3f9a1", "tipster #??????"),  # too short to be a SenderKeyer key
        ("k1:alice@example.org", "tipster #??????"),  # never echo something that is not a hash
        ("+43 660 1234567", "tipster #??????"),
    ],
)
def test_tipster_label(key: str | None, label: str) -> None:
    assert tipster_label(key) == label


@given(st.text(alphabet=HEX, min_size=32, max_size=64), st.sampled_from(["k1", "k2", "old"]))
def test_tipster_label_shows_six_digits_of_the_digest_and_no_more(digest: str, key_id: str) -> None:
    label = tipster_label(f"{key_id}:{digest}")
    assert label == f"tipster #{digest[:6]}"
    assert digest[:7] not in label and key_id not in label.replace("tipster", "")


# --- short text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        ("", "Seen  in\n\nGraz", "Seen in Graz"),
        ("Bag", "Lidl\tWien", "Bag Lidl Wien"),
        ("", "word " * 100, ("word " * 39).strip() + "…"),
    ],
)
def test_short_text(subject: str, body: str, expected: str) -> None:
    assert short_text(subject, body) == expected


@given(st.text(max_size=50), st.text(max_size=600), st.integers(min_value=10, max_value=300))
def test_short_text_is_one_bounded_line(subject: str, body: str, limit: int) -> None:
    line = short_text(subject, body, limit)
    assert len(line) <= limit
    assert not any(ch in line for ch in "\n\r\t")
    if len(" ".join(f"{subject} {body}".split())) <= limit:
        assert not line.endswith("…") or "…" in subject + body


# --- cursors -----------------------------------------------------------------------------------


@given(
    st.integers(min_value=0, max_value=100),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z"),
    st.booleans(),
)
def test_cursor_round_trip(score: int, at: datetime, tip_id: str, closed: bool) -> None:
    cursor = QueueCursor(score=score, received_at=at, tip_id=tip_id, object_closed=closed)
    token = cursor.encode()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert QueueCursor.decode(token) == cursor


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "",
        _token([50, "2024-05-01T12:00:00+00:00"]),
        _token([101, "2024-05-01T12:00:00+00:00", "x1"]),
        _token([-1, "2024-05-01T12:00:00+00:00", "x1"]),
        _token([True, "2024-05-01T12:00:00+00:00", "x1"]),
        _token(["50", "2024-05-01T12:00:00+00:00", "x1"]),
        _token([50, "2024-05-01T12:00:00", "x1"]),  # naive time: ambiguous
        _token([50, "yesterday", "x1"]),
        _token([50, "2024-05-01T12:00:00+00:00", ""]),
        _token({"score": 50}),
        _token([50, "2024-05-01T12:00:00+00:00", "x1", 0]),  # "closed" is written as 1 or not
        _token([50, "2024-05-01T12:00:00+00:00", "x1", True, 1]),
        "A" * 401,
    ],
)
def test_foreign_cursors_are_refused(token: str) -> None:
    with pytest.raises(CursorError):
        QueueCursor.decode(token)


# --- queue SQL ---------------------------------------------------------------------------------


def test_queue_query_without_filters_has_no_filter_parameters() -> None:
    sql, params = queue_query(QueueFilter())
    assert params == {"status": "new", "limit": 51}
    assert "NOT EXISTS" in sql and "object_ref =" not in sql and "after_score" not in sql


def test_a_three_field_cursor_is_a_page_among_open_objects_tips() -> None:
    cursor = QueueCursor.decode(_token([50, "2024-05-01T12:00:00+00:00", "x1"]))
    assert cursor.object_closed is False
    assert QueueCursor.decode(_token([50, "2024-05-01T12:00:00+00:00", "x1", 1])).object_closed


def test_queue_query_orders_closed_objects_last_and_pages_on_from_either_side() -> None:
    sql, _ = queue_query(QueueFilter())
    assert "ORDER BY t.object_closed, t.score DESC, t.received_at, t.tip_id" in sql
    after_open, _ = queue_query(QueueFilter(after=QueueCursor(40, T0, "x9")))
    after_closed, _ = queue_query(QueueFilter(after=QueueCursor(40, T0, "x9", object_closed=True)))
    # After an open object's tip, closed objects' tips still follow; after a closed one, only
    # closed ones remain.
    assert "AND (t.object_closed OR (t.score < %(after_score)s" in after_open
    assert "AND t.object_closed AND (t.score < %(after_score)s" in after_closed


def test_queue_query_filters_apply_to_the_row_and_to_its_better_cluster_mates() -> None:
    cursor = QueueCursor(score=40, received_at=T0, tip_id="x9")
    hostile = "x'); DROP TABLE tips; --"
    sql, params = queue_query(
        QueueFilter(status="lead", object_ref=hostile, language="pl", limit=10, after=cursor)
    )
    assert hostile not in sql and "DROP" not in sql
    assert params["object_ref"] == hostile and params["language"] == "pl"
    assert params["status"] == "lead" and params["limit"] == 11
    assert (params["after_score"], params["after_at"], params["after_id"]) == (40, T0, "x9")
    for alias in ("t", "b"):
        assert f"{alias}.object_ref = %(object_ref)s" in sql
        assert f"{alias}.language = %(language)s" in sql
    assert sql.rstrip().endswith("LIMIT %(limit)s")


@pytest.mark.parametrize(
    ("asked", "sent"), [(0, 2), (1, 2), (MAX_PAGE, MAX_PAGE + 1), (10**6, MAX_PAGE + 1)]
)
def test_queue_query_limit_is_clamped(asked: int, sent: int) -> None:
    assert queue_query(QueueFilter(limit=asked))[1]["limit"] == sent


def test_queue_query_refuses_unknown_status() -> None:
    with pytest.raises(ValueError, match="status"):
        queue_query(QueueFilter(status="open"))  # type: ignore[arg-type]


@pytest.mark.parametrize("n", [0, 1, 4, 5, 6])
def test_page_of_returns_a_cursor_only_when_there_is_more(n: int) -> None:
    rows = [
        {"score": 90 - i, "received_at": T0 + timedelta(minutes=i), "tip_id": f"t{i}"}
        for i in range(n)
    ]
    page, cursor = page_of(rows, 5)
    assert page == rows[:5]
    if n <= 5:
        assert cursor is None
    else:
        last = rows[4]
        assert cursor == QueueCursor(last["score"], last["received_at"], last["tip_id"])


# --- workflow ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("new", "reviewing", True),
        ("new", "dismissed", True),
        ("new", "lead", False),
        ("new", "new", False),
        ("reviewing", "lead", True),
        ("reviewing", "dismissed", True),
        ("reviewing", "new", True),
        ("lead", "dismissed", False),
        ("lead", "reviewing", True),
        ("dismissed", "lead", False),
        ("dismissed", "reviewing", True),
        ("bogus", "reviewing", False),
        ("new", "bogus", False),
    ],
)
def test_can_change(current: str, target: str, allowed: bool) -> None:
    assert can_change(current, target) is allowed


def test_every_status_can_be_left_and_reached() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    reachable = set().union(*TRANSITIONS.values())
    assert reachable == set(STATUSES)
    assert all(s not in TRANSITIONS[s] for s in STATUSES)


# --- ops table ---------------------------------------------------------------------------------


def test_minute_table_fills_gaps_newest_first() -> None:
    now = T0 + timedelta(minutes=4, seconds=30)
    rows = [
        {"minute": T0 + timedelta(minutes=4), "channel": "web", "tips": 3, "mean_delay_s": 1.0},
        {"minute": T0 + timedelta(minutes=4), "channel": "email", "tips": 1, "mean_delay_s": 5.0},
        {"minute": T0 + timedelta(minutes=1), "channel": "web", "tips": 2, "mean_delay_s": 0.5},
        {"minute": T0 - timedelta(minutes=9), "channel": "web", "tips": 7, "mean_delay_s": 0.5},
    ]
    table = minute_table(rows, now, 5)
    assert [r.minute for r in table] == [T0 + timedelta(minutes=m) for m in (4, 3, 2, 1, 0)]
    assert [r.total for r in table] == [4, 0, 0, 2, 0]
    assert table[0].by_channel == {"web": 3, "email": 1, "social": 0, "import": 0}
    assert table[0].mean_delay_s == pytest.approx((3 * 1.0 + 1 * 5.0) / 4)
    assert table[1].mean_delay_s is None
    assert all(set(r.by_channel) == set(CHANNELS) for r in table)


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/queue"),
        ("/tips/x1?changed=1", "/tips/x1?changed=1"),
        ("/ops", "/ops"),
        ("//evil.example/", "/queue"),
        ("/\\evil.example", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/ok\r\nSet-Cookie: x=1", "/queue"),
        ("javascript:alert(1)", "/queue"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_minute_delay_counts_live_channels_only() -> None:
    from datetime import UTC, datetime

    from review.api_queries import minute_table

    now = datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC)
    minute = now.replace(second=0)
    rows = [
        {"minute": minute, "channel": "web", "tips": 2, "mean_delay_s": 1.5},
        {"minute": minute, "channel": "import", "tips": 98, "mean_delay_s": None},
    ]
    (row,) = minute_table(rows, now, 1)
    assert row.total == 100 and row.mean_delay_s == 1.5
