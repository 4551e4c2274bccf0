"""The sink alone: scored tips into an embedded PostgreSQL, batches of 500 (goal ≥ 20,000 rows/s).

Prints rows/s (wall) and the client's CPU µs per row (``time.process_time``), since the server
and client share a busy machine. ``BENCH_SINK_ROWS`` rows (default 20,000).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_pipeline import SINK_ROWS, bench_sink
from fresh_db import fresh_database

from tipline.embedded import embedded_postgres


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="tipline-sink-"))
    work.chmod(0o755)
    try:
        with embedded_postgres(work / "pg") as server:
            rate, cpu_us = bench_sink(fresh_database(server, "sink"))
            print(
                f"sink alone: {rate:,.0f} rows/s, client CPU {cpu_us:.1f} µs per row "
                f"({SINK_ROWS} rows, batches of 500; goal ≥ 20,000 rows/s)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
