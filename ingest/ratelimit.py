"""In-memory rate limits for the web intake: token buckets keyed by an unlinkable source key.

Contract:

    SourceKeyer().key(ip) -> bytes
        A keyed hash of a client address under a random key that exists only in this process's
        memory. It is never written anywhere: after a restart nobody, not even the operator, can
        tell which address produced which key. Only the rate limiter holds these keys.

    RateLimiter(rate, burst).hit(key) -> float
        0.0 if the request may proceed, else the seconds to wait (for ``Retry-After``). Entries
        expire once their bucket would be full again, so an address is forgotten after at most
        ``burst / rate`` seconds of silence; the table never holds more than ``max_keys`` entries.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


class SourceKeyer:
    """Turns a client address into a short keyed hash; the key never leaves this object."""

    def __init__(self, secret: bytes | None = None) -> None:
        # A fresh key per process by default: rate-limit state is the only use, and it is
        # in memory anyway, so losing the key on restart costs nothing and unlinks old keys.
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def key(self, source: str) -> bytes:
        return hmac.new(self._secret, source.encode(), hashlib.sha256).digest()[:16]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per key: ``rate`` per second sustained, ``burst`` at once.

    Thread-safe: the web app calls it from the event loop, benchmarks and tests from threads.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        # A bucket left alone this long is full again, i.e. indistinguishable from a new one.
        self.ttl = self.burst / rate
        self._clock = clock
        self._buckets: OrderedDict[bytes, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, key: bytes = b"") -> float:
        """Take one token for ``key``; returns 0.0 if allowed, else seconds until one is free."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            bucket = self._buckets.pop(key, None)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    # Table full of live sources: refuse rather than grow without bound (a flood
                    # of spoofed sources must not exhaust memory). Retry when the oldest expires.
                    oldest = next(iter(self._buckets.values()))
                    return max(oldest.updated + self.ttl - now, 1.0 / self.rate)
                bucket = _Bucket(self.burst, now)
            else:
                bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
                bucket.updated = now
            # Most recently touched last, so expiry only ever looks at the front.
            self._buckets[key] = bucket
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _expire(self, now: float) -> None:
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if now - bucket.updated < self.ttl:
                break
            del self._buckets[key]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` wants whole seconds; round up so a client that obeys it succeeds."""
    return str(max(1, math.ceil(seconds)))
