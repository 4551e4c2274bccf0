"""The lag rule: end offset minus committed offset, from the log start when there is none."""

import pytest

from tipline.lag import PartitionLag, lag, total


@pytest.mark.parametrize(
    ("committed", "end", "start", "expected"),
    [
        (10, 15, 0, 5),  # the ordinary case
        (15, 15, 0, 0),  # caught up
        (None, 7, 0, 7),  # never committed: everything from the log start
        (None, 7, 4, 3),  # ... which retention may have moved
        (2, 10, 6, 4),  # committed offset already deleted: only what can still be read
        (20, 15, 0, 0),  # end offset fetched just before a commit: never negative
        (0, 0, 0, 0),  # empty partition
    ],
)
def test_lag_rule(committed: int | None, end: int, start: int, expected: int) -> None:
    tp = ("tips.raw", 0)
    committed_map = {} if committed is None else {tp: committed}
    [item] = lag(committed_map, {tp: end}, {tp: start})
    assert item == PartitionLag("tips.raw", 0, committed, end, expected)


def test_every_partition_of_ends_is_reported_in_order() -> None:
    ends = {("b", 1): 5, ("a", 2): 3, ("a", 0): 9}
    result = lag({("a", 0): 4, ("b", 1): 5, ("zz", 0): 1}, ends)
    assert [(r.topic, r.partition, r.lag) for r in result] == [
        ("a", 0, 5),
        ("a", 2, 3),
        ("b", 1, 0),
    ]
    assert total(result) == 8


def test_the_reported_end_is_kept_beside_the_real_one() -> None:
    # Tansu reports the last batch's base offset + 1; the real end is what lag is computed from.
    [item] = lag({("tips.raw", 0): 1}, {("tips.raw", 0): 4}, None, {("tips.raw", 0): 2})
    assert (item.end, item.reported_end, item.lag) == (4, 2, 3)
