"""Metric counters: named once, counted exactly, reset on every report."""

from __future__ import annotations

import threading

from tipline.core.metrics import METRICS, Counters, report


def test_take_reports_every_metric_and_resets() -> None:
    counters = Counters()
    counters.add("tips_cleaned", 3)
    counters.add("dead_letters")
    first = counters.take()
    assert set(first) == set(METRICS)
    assert first["tips_cleaned"] == 3 and first["dead_letters"] == 1 and first["retries"] == 0
    assert all(v == 0 for v in counters.take().values())


def test_counts_from_many_threads_add_up() -> None:
    counters = Counters()

    def work() -> None:
        for _ in range(1000):
            counters.add("tips_stored")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counters.take()["tips_stored"] == 8000


def test_report_is_one_line_of_names_and_numbers() -> None:
    line = report({"tips_cleaned": 2, "dead_letters": 0})
    assert line == "tips_cleaned=2 dead_letters=0"
