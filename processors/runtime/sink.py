"""The ``Sink`` protocol: where a flow's last output goes instead of a topic (quix's BatchingSink).

``write(batch)`` stores the whole batch durably (one transaction) and returns what became of
each item, or raises:

- ``SinkBackpressureError(retry_after)``: full or briefly unavailable; the runtime pauses input
  for ``retry_after`` seconds and writes the same batch again (the batch stays uncommitted).
- anything else: a bug; the worker stops with the batch uncommitted.

Writes must be idempotent: after a crash between the write and the offset commit the same
batch is written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from tipline.core.errors import SinkBackpressureError

__all__ = ["Sink", "SinkBackpressureError", "SinkResult"]


class SinkResult(Protocol):
    """How many items were new, and which the sink refused as invalid (item, reason)."""

    @property
    def inserted(self) -> int: ...

    @property
    def rejected(self) -> Sequence[tuple[Any, str]]: ...


class Sink(Protocol):
    async def write(self, batch: Sequence[Any], /) -> SinkResult: ...

    async def close(self) -> None: ...
