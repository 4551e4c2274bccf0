"""One fresh, migrated reviewer database on a PostgreSQL server, for the benchmarks (not a
benchmark itself: `make bench` runs only bench_*.py)."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.conninfo import make_conninfo

from store.migrate import migrate


def fresh_database(server: str, prefix: str = "bench") -> str:
    """Create a database with a unique name on ``server``, migrate it, return its conninfo."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_conninfo(server, dbname=name)
    migrate(url)
    return url
