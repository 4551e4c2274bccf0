"""The one producer: every adapter hands its RawTip here, and nowhere else writes tips.raw.

``submit`` returns only after the broker has acknowledged the record with ``acks=all``, so an
adapter may acknowledge a tip to its sender as soon as ``submit`` returns: an accepted tip is
never lost.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic_core import PydanticSerializationError

from schemas import RawTip
from tipline.core.errors import RejectedContentError, TransientError

log = logging.getLogger(__name__)

# The broker refuses records over 1 MiB (message.max.bytes); stay well below it with headroom
# for the record's framing, so a tip we accepted can always be produced.
MAX_RECORD_BYTES = 900_000


class UnconfirmedError(TransientError):
    """The broker did not acknowledge in time: the tip was sent and may yet be stored.

    An adapter must not tell the sender "not saved" for this, only "not confirmed": resending
    is safe because the resent tip has the same id and the sink stores it once.
    """


@dataclass(frozen=True)
class ProducerHealth:
    """What ``/readyz`` reports about the broker, as the producer last saw it."""

    reachable: bool
    pending: int  # records sent and not yet acknowledged
    oldest_pending_s: float  # how long the oldest of them has waited (0.0: none)
    last_ack_age_s: float | None  # seconds since the last acknowledgement (None: none yet)


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
    """kafka-python producer: acks=all, idempotent, batched; one per process.

    Answers are bounded: ``send`` blocks at most ``block_s`` for metadata or buffer space, an
    acknowledgement is awaited at most ``timeout_s`` (then ``UnconfirmedError``: sent, not
    confirmed), and while a record has waited longer than ``stall_s`` the broker counts as
    unreachable and new tips are refused at once without being sent (``TransientError``: really
    not saved) — one stalled broker must not hold every request for the full timeout.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        linger_ms: int = 5,
        timeout_s: float = 8.0,
        stall_s: float = 3.0,
        block_s: float = 2.0,
        **overrides: Any,
    ) -> None:
        self.topic = topic
        self._timeout_s = timeout_s
        self._stall_s = stall_s
        self._lock = threading.Lock()
        self._pending: dict[int, float] = {}  # send number -> monotonic send time
        self._numbers = itertools.count()
        self._last_ack: float | None = None
        self._last_failure: float | None = None
        options: dict[str, Any] = {
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "batch_size": 256 * 1024,
            "compression_type": None,
            "retries": 5,
            "max_in_flight_requests_per_connection": 5,
            "client_id": "tipline-ingest",
            "max_block_ms": int(block_s * 1000),
            "max_request_size": 1024 * 1024,
        }
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers.split(","), **(options | overrides)
        )

    # --- health ----------------------------------------------------------------------------

    def health(self) -> ProducerHealth:
        """The broker's state as seen from here (no I/O): for ``/readyz`` and fast refusal."""
        now = time.monotonic()
        with self._lock:
            oldest = min(self._pending.values(), default=None)
            last_ack, last_failure, pending = self._last_ack, self._last_failure, len(self._pending)
        waited = now - oldest if oldest is not None else 0.0
        failing = last_failure is not None and (last_ack is None or last_failure > last_ack)
        return ProducerHealth(
            reachable=waited <= self._stall_s and not (failing and pending),
            pending=pending,
            oldest_pending_s=round(waited, 3),
            last_ack_age_s=None if last_ack is None else round(now - last_ack, 3),
        )

    def reachable(self) -> bool:
        """False while a record waits longer than ``stall_s`` for the broker."""
        return self.health().reachable

    def _settled(self, number: int, ok: bool) -> None:
        with self._lock:
            self._pending.pop(number, None)
            if ok:
                self._last_ack = time.monotonic()
            else:
                self._last_failure = time.monotonic()

    def _send(self, tip: RawTip) -> Any:
        if not self.reachable():
            # Not sent at all, so "not saved" is the truth; the next request after the
            # stalled records settle is let through again (a probe).
            raise TransientError(f"broker unreachable; tip {tip.tip_id} not sent")
        key, value = encode(tip)
        number = next(self._numbers)
        with self._lock:
            self._pending[number] = time.monotonic()
        try:
            future = self._producer.send(self.topic, key=key, value=value)
        except KafkaError as exc:  # no metadata or no buffer space within block_s
            self._settled(number, ok=False)
            raise TransientError(f"broker did not take tip {tip.tip_id}: {exc}") from exc
        future.add_callback(lambda _: self._settled(number, ok=True))
        future.add_errback(lambda _: self._settled(number, ok=False))
        return future

    def submit(self, tip: RawTip) -> None:
        """Send one tip and wait for the broker's acknowledgement."""
        future = self._send(tip)
        try:
            future.get(timeout=self._timeout_s)
        except KafkaError as exc:
            if not future.is_done:
                raise UnconfirmedError(f"tip {tip.tip_id} not acknowledged in time") from exc
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
            raise UnconfirmedError(f"tip {tip.tip_id} not acknowledged in time") from exc

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
