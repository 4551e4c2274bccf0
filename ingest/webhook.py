"""Signed webhook intake: ``POST /hooks/{source}`` for platforms that push tips to us.

Contract:

    create_router(secrets, sink, *, max_skew_s=300) -> fastapi.APIRouter
        A request is accepted only when ``X-Tipline-Signature: sha256=<hex>`` equals
        HMAC-SHA256(secret of ``source``, f"{X-Tipline-Timestamp}.{raw body}"), compared in
        constant time, the timestamp (Unix seconds) is within ``max_skew_s`` of our clock, and
        the same signature has not been accepted before (a bounded memory covering the skew
        window). The JSON body ``{id, text, subject?, object_ref?, sender?, received_at?}``
        becomes a RawTip on the ``social`` channel with tip id ``h-`` + sha256(source, id), so a
        retried delivery is one tip. 202 answers only after the sink accepted; a sink outage
        answers 503 with Retry-After and the signature is not remembered, so the retry works.

Status codes: 401 bad or missing signature, 401 stale timestamp, 404 unknown source, 409 replay,
413 body too large, 422 body not a valid tip (over 20,000 characters is refused, not cut: the
sending platform can fix it), 503 sink unavailable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ingest.producer import TipSink
from ingest.ratelimit import SourceKeyer, retry_after_header
from ingest.tip_ids import TipIds
from ingest.web_limits import CredentialThrottle, client_source
from schemas.tip import Body, ObjectRef, RawTip, Subject, UtcDatetime
from tipline.core.errors import InvalidInputError, TransientError

log = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 256 * 1024
SIGNATURE_HEADER: Final = "X-Tipline-Signature"
TIMESTAMP_HEADER: Final = "X-Tipline-Timestamp"


class HookPayload(BaseModel):
    """What a pushing platform sends. Unknown fields are ignored: they may hold anything."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1, max_length=256)
    text: Body
    subject: Subject = ""
    object_ref: ObjectRef | None = None
    sender: str | None = Field(default=None, max_length=512)
    received_at: UtcDatetime | None = None


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value a sender computes: ``sha256=<hex>``."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class ReplayGuard:
    """Signatures seen within the skew window, bounded in memory.

    A signature older than twice the window cannot pass the timestamp check any more, so it is
    forgotten. When full, the oldest is forgotten first: under a flood beyond ``max_entries``
    per window an old request could be replayed once, and the sink's idempotent tip id still
    stores it once.
    """

    def __init__(
        self,
        window_s: float,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window_s = window_s
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at <= 2 * self._window_s and len(self._seen) <= self._max:
                break
            del self._seen[key]

    def reserve(self, key: str) -> bool:
        """Claim ``key``; False if it was claimed before (a replay or a concurrent duplicate)."""
        now = self._clock()
        self._expire(now)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def release(self, key: str) -> None:
        """Forget ``key`` (the request failed, so its retry must not look like a replay)."""
        self._seen.pop(key, None)

    def __len__(self) -> int:
        return len(self._seen)


def hook_tip_id(ids: TipIds, source: str, item_id: str) -> str:
    """``h-`` + a keyed hash of (source, item id): stable for a resent item, unlinkable outside."""
    return ids.derive("h-", "webhook", source, item_id)


def create_router(
    secrets: Mapping[str, SecretStr],
    sink: TipSink,
    *,
    ids: TipIds,
    throttle: CredentialThrottle | None = None,
    max_skew_s: int = 300,
    clock: Callable[[], float] = time.time,
    replay_guard: ReplayGuard | None = None,
) -> APIRouter:
    """The webhook router (see the module contract); ``clock`` is for tests."""
    keys = {source: secret.get_secret_value().encode() for source, secret in secrets.items()}
    guard = replay_guard or ReplayGuard(max_skew_s)
    # Wrong signatures are guesses at a partner's secret: throttled like wrong API keys.
    throttle = throttle or CredentialThrottle(SourceKeyer())
    router = APIRouter(tags=["webhook"])

    @router.post("/hooks/{source}", status_code=202)
    async def receive(
        source: str,
        request: Request,
        signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
        timestamp: Annotated[str | None, Header(alias=TIMESTAMP_HEADER)] = None,
    ) -> dict[str, str]:
        key = keys.get(source)
        if key is None:
            raise HTTPException(404, "unknown source")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            raise HTTPException(413, f"body over {MAX_BODY_BYTES} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                raise HTTPException(413, f"body over {MAX_BODY_BYTES} bytes")
        raw = bytes(body)

        client = client_source(request)
        locked = throttle.blocked(client)
        if locked:
            raise HTTPException(
                429, "too many bad signatures", {"Retry-After": retry_after_header(locked)}
            )
        if not signature or not timestamp or not timestamp.isdigit():
            throttle.failed(client)
            raise HTTPException(401, "missing signature or timestamp")
        expected = sign(key, timestamp, raw)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            throttle.failed(client)
            raise HTTPException(401, "bad signature")
        # Checked after the signature, so an unsigned caller learns nothing about our clock.
        if abs(clock() - int(timestamp)) > max_skew_s:
            raise HTTPException(401, "timestamp outside the allowed window")
        replay_key = f"{source}:{expected}"
        if not guard.reserve(replay_key):
            raise HTTPException(409, "replayed request")

        try:
            tip = _to_tip(ids, source, raw)
        except InvalidInputError as exc:
            # A bad body will be bad again: keep it reserved so it is not re-tried as a replay.
            log.info("webhook %s: body refused: %s", source, exc.reason)
            raise HTTPException(422, exc.reason) from exc
        try:
            await sink.submit_async(tip)
        except TransientError as exc:
            guard.release(replay_key)
            log.warning("tip %s not accepted by the sink: %s", tip.tip_id, type(exc).__name__)
            raise HTTPException(503, "temporarily unavailable", {"Retry-After": "5"}) from exc
        except BaseException:
            guard.release(replay_key)
            raise
        log.info("tip %s accepted by webhook %s", tip.tip_id, source)
        return {"tip_id": tip.tip_id}

    return router


def _declared(loc: tuple[int | str, ...]) -> str:
    head = str(loc[0]) if loc else "body"
    return head if not loc or head in HookPayload.model_fields else "(unknown field)"


def _to_tip(ids: TipIds, source: str, raw: bytes) -> RawTip:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError("body is not JSON") from exc
    try:
        payload = HookPayload.model_validate(data)
    except ValidationError as exc:
        # Field names and error kinds only: pydantic's own text would quote the tip.
        # Declared names only: an undeclared key is the sender's text (an address, say).
        fields = ", ".join(f"{_declared(e['loc'])} ({e['type']})" for e in exc.errors())
        raise InvalidInputError(f"invalid fields: {fields}") from exc
    meta: dict[str, str | list[str]] = {"transport": "webhook", "source": source}
    if payload.sender:
        meta["sender"] = f"{source}:{payload.sender}"
    return RawTip(
        tip_id=hook_tip_id(ids, source, payload.id),
        channel="social",
        received_at=payload.received_at or datetime.now(UTC),
        object_ref=payload.object_ref,
        subject=payload.subject,
        body=payload.text,
        channel_meta=meta,
    )
