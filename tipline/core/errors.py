"""The one exception tree. Where an error lands decides what happens to the message.

TiplineError
├── InvalidInputError        bad input: dead-letter topic with a reason, never retried
│   ├── DecodeError          bytes that are not a valid message of the expected model
│   └── RejectedContentError content a stage refuses (e.g. an unsupported attachment)
├── TransientError           a service hiccup: retried with back-off, the message is kept
│   └── BackpressureError    a service asks its input to pause (``retry_after`` seconds)
│       └── SinkBackpressureError  the sink (database) cannot take the batch now
├── SkipError                drop this message on purpose (e.g. a control record)
└── ConfigurationError       the operator must fix settings; the process stops at start-up
"""

from __future__ import annotations


class TiplineError(Exception):
    """Root of every error tipline raises on purpose."""


class InvalidInputError(TiplineError):
    """The message itself is wrong; retrying cannot help. It goes to the dead-letter topic."""

    def __init__(self, reason: str, *, tip_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tip_id = tip_id


class DecodeError(InvalidInputError):
    """Bytes that do not decode to the expected model (bad JSON, unknown field, over a limit)."""


class RejectedContentError(InvalidInputError):
    """Well-formed input whose content a stage refuses (e.g. an executable attachment)."""


class TransientError(TiplineError):
    """A service is briefly unavailable; the same message will succeed later."""


class BackpressureError(TransientError):
    """A sink is full; the caller should pause its input for ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"back-pressure: retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class SinkBackpressureError(BackpressureError):
    """The sink cannot take the batch now; the runtime pauses input and writes it again."""


class SkipError(TiplineError):
    """Drop this message deliberately; it is neither an error nor a dead letter."""


class ConfigurationError(TiplineError):
    """Settings are missing or inconsistent; raised at start-up, never per message."""
