"""The /ops page's SVG charts: one bar per value, escaped labels, no script."""

from __future__ import annotations

from review.ops_charts import bar_chart


def test_one_bar_per_value_and_none_draws_nothing() -> None:
    svg = str(bar_chart([("10:00", 2.0), ("10:01", None), ("10:02", 0.0)], title="T", unit="s"))
    assert svg.count("<rect ") == 2
    assert "<script" not in svg and 'role="img"' in svg
    assert "highest 2.0 s" in svg


def test_labels_are_escaped() -> None:
    svg = str(bar_chart([("<b>", 1.0)], title="a & b", unit="tips"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a &amp; b" in svg


def test_no_data_is_said() -> None:
    assert "no data" in str(bar_chart([], title="Delay", unit="s"))
