"""How much a web client may send and how often: body sizes (413) and rate limits (429)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.photos import DEFAULT_MAX_BYTES
from ingest.ratelimit import RateLimiter, SourceKeyer
from tipline.core.metrics import RATE_LIMITED
from tipline.core.settings import Settings

MAX_CONTACT_CHARS: Final = 200
# Room for one photo plus the text fields and multipart framing; the API's base64 photos
# are a third larger than their bytes.
FORM_BODY_LIMIT: Final = DEFAULT_MAX_BYTES + 256 * 1024
API_BODY_LIMIT: Final = (DEFAULT_MAX_BYTES * 4) // 3 + 256 * 1024


# --- ASGI middleware: pure, so it costs little at a thousand requests a second ---------------


class _BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse request bodies above a limit (413) before or while they stream in."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await _send_plain(send, 413, "request body too large")
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if not started:
                await _send_plain(send, 413, "request body too large")


async def _send_plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- rate limits -----------------------------------------------------------------------------


class CredentialThrottle:
    """Throttles wrong credentials (partner API keys, webhook signatures) before they are checked.

    Each wrong guess costs a token from the client's bucket (keyed by ``SourceKeyer``: a keyed
    hash in memory only, so no address is stored) and from one overall bucket; an empty bucket
    locks that client (or, overall, every unauthenticated guess) until it refills. Checked before
    the credential, so a locked-out guesser cannot learn that a guess was right. Right
    credentials cost nothing. The overall lock trades a little availability under a distributed
    flood (more than ``overall_rate`` wrong guesses a second) for a bounded guessing rate.
    """

    def __init__(
        self,
        keyer: SourceKeyer,
        *,
        per_source: tuple[float, int] = (0.2, 10),  # 10 wrong at once, then one per 5 s
        overall: tuple[float, int] = (5.0, 100),
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._keyer = keyer
        self._clock = clock
        self._per_source = RateLimiter(*per_source, clock=clock, max_keys=max_keys)
        self._overall = RateLimiter(*overall, clock=clock)
        self._locked: OrderedDict[bytes, float] = OrderedDict()  # source key -> locked until
        self._overall_until = 0.0
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def blocked(self, source: str) -> float:
        """Seconds this client must wait before its credential is even looked at (0.0: none)."""
        now = self._clock()
        key = self._keyer.key(source)
        with self._lock:
            while self._locked and next(iter(self._locked.values())) <= now:
                self._locked.popitem(last=False)
            until = max(self._locked.get(key, 0.0), self._overall_until)
        wait = max(0.0, until - now)
        if wait:
            RATE_LIMITED.labels("credentials").inc()
        return wait

    def failed(self, source: str) -> None:
        """Count one wrong credential from ``source``."""
        now = self._clock()
        key = self._keyer.key(source)
        wait = self._per_source.hit(key)
        overall = self._overall.hit()
        with self._lock:
            if wait:
                self._locked.pop(key, None)
                if len(self._locked) >= self._max_keys:
                    self._locked.popitem(last=False)
                self._locked[key] = now + wait
            if overall:
                self._overall_until = max(self._overall_until, now + overall)


class RateLimits:
    """Per-source and global rate limits; answers the seconds to wait, 0.0 if allowed.

    One instance serves form and API alike, so the global limit covers both.
    """

    def __init__(self, settings: Settings) -> None:
        self.keyer = SourceKeyer()
        self.per_address = RateLimiter(settings.web_source_rate, settings.web_source_burst)
        self.per_partner = RateLimiter(settings.web_partner_rate, settings.web_partner_burst)
        self.overall = RateLimiter(settings.web_global_rate, settings.web_global_burst)
        self.credentials = CredentialThrottle(self.keyer)

    def form(self, request: Request) -> float:
        wait = self.per_address.hit(self.keyer.key(_client_source(request)))
        return _refused("address", wait) or _refused("overall", self.overall.hit())

    def api(self, partner: str) -> float:
        wait = self.per_partner.hit(partner.encode())
        return _refused("partner", wait) or _refused("overall", self.overall.hit())


def _refused(limit: str, wait: float) -> float:
    """Count a refusal by the limit that made it (the 429 itself is counted by status too)."""
    if wait:
        RATE_LIMITED.labels(limit).inc()
    return wait


def client_source(request: Request) -> str:
    """The client's address, for ``SourceKeyer.key`` only: never stored, never logged."""
    return _client_source(request)


def _client_source(request: Request) -> str:
    # Only ever passed to SourceKeyer.key; never stored, never logged.
    return request.client.host if request.client else "unknown"
