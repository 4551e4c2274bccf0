"""Throttling of every credential check of the console (password sign-ins, bearer tokens).

Failures, not requests, are counted, in token buckets held in memory only: one per analyst name
tried (under a per-process random key, so the table says nothing after a restart) and one over
all checks. No client address is used or stored: the analysts' console sits behind one proxy
or VPN, and a guesser cannot be told apart by address anyway. While a bucket is empty, checks
are refused before any password is looked at, so guessing speed is capped at the refill rate.

The global bucket lets a guesser slow every sign-in down (not lock anyone out for good): the
price of not keeping addresses, and visible in the log as "credential checks throttled".
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
from typing import Final

BEARER: Final = "\x00bearer"  # the key bearer-token failures share: the name is unknown


class CredentialThrottle:
    """``wait(name)`` → seconds before a check for ``name`` may run (0: now); ``failed(name)``."""

    def __init__(
        self,
        *,
        name_burst: int,
        name_per_minute: float,
        global_burst: int,
        global_per_second: float,
        max_names: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = secrets.token_bytes(32)
        self._limits = {
            "name": (float(name_burst), name_per_minute / 60.0),
            "all": (float(global_burst), global_per_second),
        }
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()
        self._max = max_names
        self._clock = clock
        self._lock = threading.Lock()

    def _keys(self, name: str | None) -> list[tuple[bytes, str]]:
        keys = [(b"all", "all")]
        if name is not None:
            digest = hmac.new(self._key, name.lower().encode(), hashlib.sha256).digest()[:16]
            keys.append((digest, "name"))
        return keys

    def _level(self, key: bytes, kind: str, now: float) -> float:
        burst, rate = self._limits[kind]
        tokens, updated = self._buckets.get(key, (burst, now))
        return min(burst, tokens + (now - updated) * rate)

    def wait(self, name: str | None) -> float:
        now = self._clock()
        with self._lock:
            waits = [0.0]
            for key, kind in self._keys(name):
                level = self._level(key, kind, now)
                if level < 1.0:
                    waits.append((1.0 - level) / self._limits[kind][1])
            return math.ceil(max(waits) * 10) / 10

    def failed(self, name: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key, kind in self._keys(name):
                level = self._level(key, kind, now)
                self._buckets[key] = (max(0.0, level - 1.0), now)
                self._buckets.move_to_end(key)
            while len(self._buckets) > self._max:
                oldest = next(iter(self._buckets))
                if oldest == b"all":
                    self._buckets.move_to_end(oldest)
                    continue
                del self._buckets[oldest]
