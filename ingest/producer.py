"""The one producer: every adapter hands its RawTip here, and nowhere else writes tips.raw.

``submit`` returns only after the broker has acknowledged the record with ``acks=all``, so an
adapter may acknowledge a tip to its sender as soon as ``submit`` returns: an accepted tip is
never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic_core import PydanticSerializationError

from schemas import RawTip
from tipline.errors import RejectedContentError, TransientError

log = logging.getLogger(__name__)

# The broker refuses records over 1 MiB (message.max.bytes); stay well below it with headroom
# for the record's framing, so a tip we accepted can always be produced.
MAX_RECORD_BYTES = 900_000


class TipSink(Protocol):
    """What an adapter needs: hand over a tip, learn when it is durably accepted."""

    def submit(self, tip: RawTip) -> None: ...

    async def submit_async(self, tip: RawTip) -> None: ...


def _dump(tip: RawTip) -> bytes:
    try:
        return tip.model_dump_json().encode()
    except (PydanticSerializationError, UnicodeEncodeError) as exc:
        # Lone surrogates: no text of ours, so the input itself is broken; a retry cannot help.
        raise RejectedContentError("tip is not valid Unicode text", tip_id=tip.tip_id) from exc


def encode(tip: RawTip) -> tuple[bytes, bytes]:
    """Kafka key and value for a raw tip: keyed by object so per-object state is co-located.

    A record over ``MAX_RECORD_BYTES`` loses its channel headers ("h:*", which no stage reads;
    ``meta_truncated`` says so) rather than being refused by the broker; the tip's own fields
    are bounded by the schema and always fit. Raises RejectedContentError (permanent) for a
    tip that cannot be encoded at all.
    """
    value = _dump(tip)
    if len(value) > MAX_RECORD_BYTES:
        meta: dict[str, str | list[str]] = {
            k: v for k, v in tip.channel_meta.items() if not k.startswith("h:")
        }
        meta["meta_truncated"] = "true"
        value = _dump(tip.model_copy(update={"channel_meta": meta}))
        log.info("tip %s: channel headers dropped to fit the broker's limit", tip.tip_id)
        if len(value) > MAX_RECORD_BYTES:
            raise RejectedContentError("tip too large for the broker", tip_id=tip.tip_id)
    return tip.partition_key().encode(), value


class TipProducer:
    """kafka-python producer: acks=all, idempotent, batched; one per process."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        linger_ms: int = 5,
        timeout_s: float = 30.0,
        **overrides: Any,
    ) -> None:
        self.topic = topic
        self._timeout_s = timeout_s
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers.split(","),
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            batch_size=256 * 1024,
            compression_type=None,
            retries=5,
            max_in_flight_requests_per_connection=5,
            client_id="tipline-ingest",
            **overrides,
        )

    def _send(self, tip: RawTip) -> Any:
        key, value = encode(tip)
        return self._producer.send(self.topic, key=key, value=value)

    def submit(self, tip: RawTip) -> None:
        """Send one tip and wait for the broker's acknowledgement."""
        try:
            self._send(tip).get(timeout=self._timeout_s)
        except KafkaError as exc:
            raise TransientError(f"broker did not acknowledge tip {tip.tip_id}: {exc}") from exc
        log.debug("accepted tip %s", tip.tip_id)

    async def submit_async(self, tip: RawTip) -> None:
        """As ``submit`` without blocking the event loop: awaits the broker's acknowledgement."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        # kafka-python calls these on its I/O thread; the future belongs to the event loop.
        def settle(error: BaseException | None) -> None:
            if done.done():
                return
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        def ok(_: Any) -> None:
            loop.call_soon_threadsafe(settle, None)

        def failed(exc: BaseException) -> None:
            err = TransientError(f"broker did not acknowledge tip {tip.tip_id}: {exc}")
            loop.call_soon_threadsafe(settle, err)

        future = self._send(tip)
        future.add_callback(ok)
        future.add_errback(failed)
        try:
            await asyncio.wait_for(done, self._timeout_s)
        except TimeoutError as exc:
            raise TransientError(f"broker did not acknowledge tip {tip.tip_id} in time") from exc

    def submit_many(self, tips: Iterable[RawTip]) -> int:
        """Send many tips pipelined, then wait for all acknowledgements. Returns the count."""
        futures = [(tip.tip_id, self._send(tip)) for tip in tips]
        self._producer.flush(timeout=self._timeout_s)
        for tip_id, future in futures:
            try:
                future.get(timeout=self._timeout_s)
            except KafkaError as exc:
                raise TransientError(f"broker did not acknowledge tip {tip_id}: {exc}") from exc
        return len(futures)

    def close(self) -> None:
        self._producer.flush(timeout=self._timeout_s)
        self._producer.close(timeout=self._timeout_s)

    def __enter__(self) -> TipProducer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
