"""Keyed tip ids: an id derived from channel data must not let its holder find the tip.

Contract:

    TipIds(secret).derive(prefix, *parts) -> str
        ``prefix`` + 32 hex digits of HMAC-SHA256 over ``parts``, under a key derived from the
        sender-key secret. Deterministic (a redelivered mail, webhook or row keeps its id, so the
        sink stores it once), but whoever holds the sent mail or the platform's status id cannot
        compute it: the Message-ID alone no longer leads to the tip.

Rotating the sender-key secret changes every derived id, so a message redelivered across a
rotation is stored twice; that is the price of ids nobody outside can link.
"""

from __future__ import annotations

import hashlib
import hmac

from tipline import services
from tipline.core.settings import Settings

# Domain separation: the same secret keys sender keys, and the two must never coincide.
_CONTEXT = b"tipline tip-id v1"


class TipIds:
    """Derives channel tip ids under a key that never leaves this object."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("tip-id secret must be at least 16 bytes")
        self._key = hmac.new(secret, _CONTEXT, hashlib.sha256).digest()

    @classmethod
    def from_settings(cls, settings: Settings) -> TipIds:
        """Keyed with the sender-key secret (configured, or generated once under data_dir)."""
        return cls(services.sender_key_secret(settings))

    def derive(self, prefix: str, *parts: str) -> str:
        message = "\x00".join(parts).encode("utf-8", errors="replace")
        return prefix + hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
