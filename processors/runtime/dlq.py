"""Dead-letter policy: which failures become dead letters, and when a flood of them stops.

As arroyo's ``dlq.py``: only invalid input is dead-lettered — ``InvalidInputError`` raised by a
step, and a value that does not decode (bad UTF-8, bad JSON, a lone surrogate, a schema
violation, a tombstone). Every other exception is a bug or an outage: the batch stays
uncommitted and the worker stops, so a bad release cannot drain a topic into the dead letters.

``DlqLimit`` bounds even invalid input: more than ``max_consecutive_count`` invalid records in a
row, or an invalid ratio above ``max_invalid_ratio`` once ``min_records`` were seen, raises
``DlqLimitExceededError``, which stops the worker like a bug (something upstream is broken).
"""

from __future__ import annotations

from dataclasses import dataclass

from tipline.core.errors import InvalidInputError, TiplineError


class DlqLimitExceededError(TiplineError):
    """Too many invalid records: something upstream is broken. Stops the worker."""


@dataclass(frozen=True)
class DlqLimit:
    """Limits on dead letters; ``None`` disables a limit."""

    max_invalid_ratio: float | None = 0.5
    max_consecutive_count: int | None = 1000
    min_records: int = 200  # the ratio means nothing over a handful of records


def dead_letterable(exc: BaseException) -> bool:
    """True when ``exc`` says the record is wrong (dead letter), not our code (stop)."""
    return isinstance(exc, InvalidInputError)


class DlqPolicy:
    """Counts valid and invalid records for one runner and enforces its ``DlqLimit``."""

    def __init__(self, limit: DlqLimit | None = None) -> None:
        self.limit = limit or DlqLimit()
        self.valid = 0
        self.invalid = 0
        self.consecutive = 0

    def ok(self) -> None:
        self.valid += 1
        self.consecutive = 0

    def invalid_record(self) -> None:
        """Count one dead letter, or raise DlqLimitExceededError when that breaks a limit."""
        self.invalid += 1
        self.consecutive += 1
        limit = self.limit
        most = limit.max_consecutive_count
        if most is not None and self.consecutive > most:
            raise DlqLimitExceededError(f"{self.consecutive} invalid in a row (limit {most})")
        seen = self.valid + self.invalid
        if (
            limit.max_invalid_ratio is not None
            and seen >= limit.min_records
            and self.invalid / seen > limit.max_invalid_ratio
        ):
            raise DlqLimitExceededError(
                f"{self.invalid} of {seen} records invalid (limit {limit.max_invalid_ratio:.0%})"
            )
