"""The one producer: every adapter hands its RawTip here, and nowhere else writes tips.raw.

``submit`` returns only after the broker has acknowledged the record with ``acks=all``, so an
adapter may acknowledge a tip to its sender as soon as ``submit`` returns: an accepted tip is
never lost.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.net.compat import KafkaNetClient
from pydantic_core import PydanticSerializationError

from schemas import RawTip
from tipline.core.errors import RejectedContentError, TransientError
from tipline.core.security import kafka_python_options
from tipline.core.settings import Settings
from tipline.core.topics import Topics

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


def broker_silent(
    now: float,
    oldest_pending: float | None,
    last_ack: float | None,
    last_failure: float | None,
    stall_s: float,
) -> bool:
    """Whether the broker as a whole has stopped answering (monotonic times; None: never).

    A record waiting longer than ``stall_s`` alone is not enough: while one broker of a cluster
    is lost, records of the partitions it led wait for a new leader while the others may be
    acknowledged as usual, and refusing every tip then would turn one broker's failover into
    an outage. Silent means: something waits longer than ``stall_s`` *and* nothing was
    acknowledged for ``stall_s`` either, or the latest outcome was a failure while records
    still wait.

    With ``acks=all`` a lost broker holds *every* partition whose in-sync set still lists it,
    until the controller fences it (``broker.session.timeout.ms``, plus a controller election
    when it was the controller): the whole cluster is briefly silent. ``stall_s`` must outlast
    that window (deploy/kafka/cluster.properties: at most about 5 s), or a failover that loses
    nothing is answered with refusals.
    """
    if oldest_pending is None:
        return False
    acked_recently = last_ack is not None and now - last_ack <= stall_s
    if now - oldest_pending > stall_s and not acked_recently:
        return True
    return last_failure is not None and (last_ack is None or last_failure > last_ack)


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


def producer_config(
    bootstrap_servers: str, *, linger_ms: int = 5, block_s: float = 2.0, **overrides: Any
) -> dict[str, Any]:
    """kafka-python's KafkaProducer arguments (see TipProducer); ``overrides`` win, e.g. the
    security options of tipline.core.security.kafka_python_options."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap_servers.split(","),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": linger_ms,
        "batch_size": 256 * 1024,
        "compression_type": None,
        "request_timeout_ms": 3000,
        "delivery_timeout_ms": 60_000,
        # The producer offers no setting for how long a new connection may take to set up
        # (kafka-python's default: 10 s). A frozen broker accepts the TCP connection and never
        # answers, and the metadata refresh that would name the new leaders waited there.
        "kafka_client": functools.partial(
            KafkaNetClient,
            socket_connection_setup_timeout_ms=2000,
            socket_connection_setup_timeout_max_ms=10_000,
        ),
        "max_in_flight_requests_per_connection": 5,
        "client_id": "tipline-ingest",
        "max_block_ms": int(block_s * 1000),
        "max_request_size": 1024 * 1024,
    }
    return options | overrides


class TipProducer:
    """kafka-python producer: acks=all, idempotent, batched; one per process.

    Answers are bounded: ``send`` blocks at most ``block_s`` for metadata or buffer space, an
    acknowledgement is awaited at most ``timeout_s`` (then ``UnconfirmedError``: sent, not
    confirmed), and while the broker is silent (a record has waited longer than ``stall_s`` and
    nothing was acknowledged meanwhile) it counts as unreachable and new tips are refused at once
    without being sent (``TransientError``: really not saved) — a stalled broker must not hold
    every request for the full timeout. One lost broker of a cluster is not silent: its
    partitions' records wait for the new leader while the others are acknowledged.

    Requests are bounded by ``request_timeout_ms`` (kafka-python's default is 30 s) and new
    connections by a 2 s setup timeout (10 s by default): a broker that froze (SIGSTOP, a
    stalled VM) gives no answer and no reset, and would otherwise hold its partitions' records,
    and the metadata refresh that finds their new leaders, past the failover. Retries are left
    unbounded in number and bounded in time (``delivery_timeout_ms``): a leader election answers
    NotLeaderForPartition several times in a row, and the idempotent producer makes each retry
    safe.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        linger_ms: int = 5,
        timeout_s: float = 10.0,
        stall_s: float = 8.0,
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
        self._producer = KafkaProducer(
            **producer_config(bootstrap_servers, linger_ms=linger_ms, block_s=block_s, **overrides)
        )

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> TipProducer:
        """The producer of the raw topic, connected as the TLS/SASL settings say."""
        if not settings.kafka:
            raise ValueError("TipProducer needs a resolved kafka setting")
        return cls(
            settings.kafka,
            Topics.from_settings(settings).raw,
            **(kafka_python_options(settings) | kwargs),
        )

    # --- health ----------------------------------------------------------------------------

    def health(self) -> ProducerHealth:
        """The broker's state as seen from here (no I/O): for ``/readyz`` and fast refusal."""
        now = time.monotonic()
        with self._lock:
            oldest = min(self._pending.values(), default=None)
            last_ack, last_failure, pending = self._last_ack, self._last_failure, len(self._pending)
        waited = now - oldest if oldest is not None else 0.0
        return ProducerHealth(
            reachable=not broker_silent(now, oldest, last_ack, last_failure, self._stall_s),
            pending=pending,
            oldest_pending_s=round(waited, 3),
            last_ack_age_s=None if last_ack is None else round(now - last_ack, 3),
        )

    def reachable(self) -> bool:
        """False while the broker is silent (``broker_silent``): records wait longer than
        ``stall_s`` and nothing at all was acknowledged meanwhile."""
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
