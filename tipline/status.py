"""`tipline status`: a live terminal view of every process's health, throughput, lag and dead
letters, read from their /metrics and /readyz (the processes `tipline run` wrote to the run
file, or any given with ``--process name=url`` for external deployments)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

# The counters shown per process, in flow order: (column, metric sample name).
COLUMNS = (
    ("accepted", "tipline_tips_accepted_total"),
    ("cleaned", "tipline_tips_cleaned_total"),
    ("triaged", "tipline_tips_triaged_total"),
    ("stored", "tipline_tips_stored_total"),
    ("dead", "tipline_dead_letters_total"),
    ("refused", "tipline_http_refused_total"),
)
_RATE_OF = "tipline_tips_stored_total"


@dataclass
class Sample:
    """One scrape of one process."""

    name: str
    up: bool
    ready: str  # "ready", "not ready: …", or "down"
    totals: dict[str, float] = field(default_factory=dict)
    lag: dict[tuple[str, str], float] = field(default_factory=dict)
    at: float = 0.0


def _get(url: str, timeout_s: float) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - http(s) from config
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def scrape(name: str, base: str, timeout_s: float = 3.0) -> Sample:
    """Read /metrics and /readyz of one process; a process that does not answer is down."""
    now = time.monotonic()
    try:
        _, text = _get(f"{base}/metrics", timeout_s)
        status, ready_body = _get(f"{base}/readyz", timeout_s)
    except OSError:
        return Sample(name, up=False, ready="down", at=now)
    sample = Sample(name, up=True, ready="ready" if status == 200 else "", at=now)
    if status != 200:
        sample.ready = "not ready: " + _failing(ready_body)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "tipline_consumer_lag":
                sample.lag[(s.labels["topic"], s.labels["partition"])] = s.value
            elif s.name.endswith("_total"):
                sample.totals[s.name] = sample.totals.get(s.name, 0.0) + s.value
    return sample


def _failing(body: str) -> str:
    import json

    try:
        checks = json.loads(body).get("checks", {})
    except ValueError:
        return body[:60]
    return ", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok") or "?"


def render(samples: list[Sample], previous: Mapping[str, Sample] | None = None) -> Group:
    """The processes table (with stored tips per second since the previous sample) and lag."""
    table = Table(title="tipline processes", expand=False)
    table.add_column("process")
    table.add_column("health")
    for column, _ in COLUMNS:
        table.add_column(column, justify="right")
    table.add_column("stored/s", justify="right")
    table.add_column("lag", justify="right")
    lag_rows: dict[tuple[str, str], float] = {}
    for s in samples:
        health = "[green]ready[/]" if s.ready == "ready" else f"[red]{s.ready}[/]"
        rate = "-"
        before = (previous or {}).get(s.name)
        if before is not None and before.up and s.up and s.at > before.at:
            delta = s.totals.get(_RATE_OF, 0.0) - before.totals.get(_RATE_OF, 0.0)
            rate = f"{delta / (s.at - before.at):.1f}"
        lag_rows.update(s.lag)
        table.add_row(
            s.name,
            health,
            *(f"{s.totals[m]:.0f}" if m in s.totals else "-" for _, m in COLUMNS),
            rate,
            f"{sum(s.lag.values()):.0f}" if s.lag else "-",
        )
    lag = Table(title="consumer lag (records past the committed offset)")
    lag.add_column("topic")
    lag.add_column("partition", justify="right")
    lag.add_column("lag", justify="right")
    for (topic, partition), value in sorted(lag_rows.items()):
        lag.add_row(topic, partition, f"{value:.0f}")
    return Group(table, lag)


def show(processes: Mapping[str, str], *, once: bool, console: Console | None = None) -> int:
    """Print the view once, or refresh it every second until Ctrl-C."""
    console = console or Console()
    if not processes:
        console.print("no processes known: is `tipline run` running here? (or pass --process)")
        return 1
    if once:
        console.print(render([scrape(n, u) for n, u in processes.items()]))
        return 0
    previous: dict[str, Sample] = {}
    with Live(console=console, auto_refresh=False) as live:
        try:
            while True:
                samples = [scrape(n, u, timeout_s=0.9) for n, u in processes.items()]
                live.update(render(samples, previous), refresh=True)
                previous = {s.name: s for s in samples}
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    return 0
