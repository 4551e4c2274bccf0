"""Metric counters: named once, counted exactly, reset on every report."""

from __future__ import annotations

import json
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


def _exported_names() -> set[str]:
    """Every series name tipline's processes can export: the registered metrics' samples (with
    _total, _bucket, _sum, _count) and the collectors' names from tipline/core/metrics.py."""
    from prometheus_client import REGISTRY

    import processors.flows  # noqa: F401 - registers the dedupe gauges' functions
    from tipline.core import metrics

    names = {
        sample.name
        for family in REGISTRY.collect()
        if family.name.startswith("tipline_")
        for sample in family.samples
    }
    for family in REGISTRY.collect():  # labelled metrics with no child yet have no sample
        if family.name.startswith("tipline_"):
            if family.type == "counter":
                names.add(f"{family.name}_total")
            elif family.type == "histogram":
                names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
            else:
                names.add(family.name)
    names |= {v for k, v in vars(metrics).items() if k.endswith("_NAME") and isinstance(v, str)}
    return names


def test_every_series_on_the_grafana_board_is_one_the_code_exports() -> None:
    import re
    from pathlib import Path

    board = json.loads(
        (Path(__file__).parents[3] / "deploy" / "grafana" / "tipline-ops.json").read_text()
    )
    exprs = [
        t["expr"]
        for panel in board["panels"]
        if panel["datasource"]["type"] == "prometheus"
        for t in panel["targets"]
    ]
    assert len(exprs) >= 7
    used = {name for expr in exprs for name in re.findall(r"\btipline_[a-z0-9_]+", expr)}
    assert used, exprs
    assert used <= _exported_names(), used - _exported_names()
