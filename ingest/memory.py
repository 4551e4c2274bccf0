"""An in-memory TipSink: the producer's stand-in for adapter tests and dry runs (no broker)."""

from __future__ import annotations

from collections.abc import Iterable

from ingest.producer import ProducerHealth
from schemas import RawTip
from tipline.core.errors import TransientError


class MemorySink:
    """Keeps accepted tips in ``tips``. Failure modes, for testing how adapters react:

    * ``down = True``: every submit raises TransientError (a broker outage);
    * ``fail``: every submit raises this exception while it is set;
    * ``fail_on``: the submit that would store tip number N (0-based) fails once;
    * ``fail_after``: every submit fails once N tips are stored.
    """

    def __init__(self, *, fail_on: Iterable[int] = (), fail_after: int | None = None) -> None:
        self.tips: list[RawTip] = []
        self.down = False
        self.fail: Exception | None = None
        self.fail_on = set(fail_on)
        self.fail_after = fail_after

    def submit(self, tip: RawTip) -> None:
        if self.fail is not None:
            raise self.fail
        count = len(self.tips)
        if self.down or (self.fail_after is not None and count >= self.fail_after):
            raise TransientError("sink down")
        if count in self.fail_on:
            self.fail_on.discard(count)
            raise TransientError("sink down")
        self.tips.append(tip)

    async def submit_async(self, tip: RawTip) -> None:
        self.submit(tip)

    def health(self) -> ProducerHealth:
        """As ``TipProducer.health``: unreachable while ``down``."""
        return ProducerHealth(
            reachable=not self.down, pending=0, oldest_pending_s=0.0, last_ack_age_s=None
        )
