"""Rules that find tipster-identifying spans in text; ``processors.redact`` applies them.

Each rule module exports finders ``find_*(text) -> list[Span]``. A span either replaces its text
with a typed placeholder (``[EMAIL]``) or, for URLs, with a cleaned copy of the text; a span with
``kind=None`` only *protects* its text (a product URL, a date, a barcode) from later rules.
"""

from __future__ import annotations

from typing import NamedTuple

from schemas import RedactionKind


class Span(NamedTuple):
    """A half-open ``[start, end)`` range of the text and what it becomes."""

    start: int
    end: int
    kind: RedactionKind | None  # None: keep the text as it is, but claim it from later rules
    replacement: str | None = None  # None: the kind's placeholder, e.g. "[PHONE]"
    n: int = 1  # redactions this span stands for (a URL can lose several tokens)


def placeholder(kind: RedactionKind) -> str:
    return f"[{kind}]"
