"""The dead-letter record: what failed, where and why — never who sent it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import FrozenModel
from schemas.tip import UtcDatetime

Stage = Literal["decode", "clean", "triage", "sink", "ingest"]


class DeadLetter(FrozenModel):
    """A message a stage could not process. ``payload`` is already stripped of tipster data."""

    schema_version: Literal[1] = 1
    stage: Stage
    reason: str  # human-readable, names the failing field where there is one
    error: str  # exception class name
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    tip_id: str | None = None
    failed_at: UtcDatetime
    payload: str = Field(default="", max_length=60_000)
