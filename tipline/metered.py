"""The intake's counting layer: wraps the one producer so every adapter's tips are measured
(accepted or not, by channel, and the broker's acknowledgement time) without touching them."""

from __future__ import annotations

import time
from collections.abc import Iterable

from ingest.producer import TipProducer
from schemas import RawTip
from tipline.core.metrics import INTAKE_ACK_SECONDS, TIPS_ACCEPTED, TIPS_NOT_ACCEPTED


class MeteredSink:
    """A ``TipSink`` (and ``submit_many``) in front of a TipProducer; behaviour unchanged."""

    def __init__(self, producer: TipProducer) -> None:
        self._producer = producer

    def submit(self, tip: RawTip) -> None:
        start = time.perf_counter()
        try:
            self._producer.submit(tip)
        except BaseException:
            TIPS_NOT_ACCEPTED.labels(tip.channel).inc()
            raise
        INTAKE_ACK_SECONDS.labels(tip.channel).observe(time.perf_counter() - start)
        TIPS_ACCEPTED.labels(tip.channel).inc()

    async def submit_async(self, tip: RawTip) -> None:
        start = time.perf_counter()
        try:
            await self._producer.submit_async(tip)
        except BaseException:
            TIPS_NOT_ACCEPTED.labels(tip.channel).inc()
            raise
        INTAKE_ACK_SECONDS.labels(tip.channel).observe(time.perf_counter() - start)
        TIPS_ACCEPTED.labels(tip.channel).inc()

    def submit_many(self, tips: Iterable[RawTip]) -> int:
        batch = list(tips)
        start = time.perf_counter()
        try:
            count = self._producer.submit_many(batch)
        except BaseException:
            for tip in batch:
                TIPS_NOT_ACCEPTED.labels(tip.channel).inc()
            raise
        elapsed = time.perf_counter() - start
        for tip in batch:
            INTAKE_ACK_SECONDS.labels(tip.channel).observe(elapsed)
            TIPS_ACCEPTED.labels(tip.channel).inc()
        return count
