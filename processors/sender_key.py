"""Sender keys: a keyed HMAC of a channel identity, so floods can be counted, not traced."""

from __future__ import annotations

import hashlib
import hmac


class SenderKeyer:
    """Turns (channel, identity) into an opaque, rotatable key such as ``k1:3f9a…``.

    The key id is part of the output so that after a rotation old and new keys never collide
    and an analyst can tell which secret made a key; the secret itself never leaves this object.
    """

    def __init__(self, key_id: str, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("sender-key secret must be at least 16 bytes")
        self._key_id = key_id
        self._secret = secret

    def __call__(self, channel: str, identity: str) -> str:
        canonical = f"{channel}\x00{identity.strip().casefold()}".encode()
        digest = hmac.new(self._secret, canonical, hashlib.sha256).hexdigest()[:32]
        return f"{self._key_id}:{digest}"
