"""Sender keys: a keyed HMAC of a channel identity, so floods can be counted, not traced."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

# The one channel_meta entry a spill writes instead of the tipster's identity (tipline/spill.py):
# the sender key already derived, so the spill file on disk never holds an address or handle.
SPILLED_KEY_META = "spilled_sender_key"
_KEY = re.compile(r"[^\s:]{1,64}:[0-9a-f]{32}")


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


def spilled_key(meta: Mapping[str, str | list[str]]) -> str | None:
    """The sender key a spill carried in place of the identity, if it has a key's shape."""
    value = meta.get(SPILLED_KEY_META)
    return value if isinstance(value, str) and _KEY.fullmatch(value) else None
