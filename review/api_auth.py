"""Analyst authentication for the review app: access tokens, signed session cookies, CSRF.

An analyst proves who they are with their access token (``settings.review_tokens``), either
on every API call (``Authorization: Bearer …``) or once through the login form, which sets a
session cookie. The cookie is HMAC-signed, not encrypted: it holds the analyst's name, a
per-session CSRF token, an expiry and a fingerprint of the token it was made from, so changing
or removing an analyst's token ends their sessions at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import SecretStr

from tipline.errors import ConfigurationError
from tipline.http import credential_digests

MIN_TOKEN_CHARS: Final = 16
_ANALYST_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CSRF_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Analyst:
    """An authenticated analyst; ``csrf`` is set only for cookie sessions (browsers)."""

    name: str
    csrf: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    """Checks tokens and issues and verifies session cookies; holds no per-user state."""

    def __init__(
        self,
        tokens: Mapping[str, SecretStr],
        session_secret: SecretStr | None,
        session_seconds: float,
    ) -> None:
        if not tokens:
            raise ConfigurationError("review app: no analysts configured (TIPLINE_REVIEW_TOKENS)")
        self._digests = credential_digests(
            tokens,
            holder="review analyst",
            key_label="access token",
            name_pattern=_ANALYST_RE,
            min_chars=MIN_TOKEN_CHARS,
        )
        # Unset: a random key, so sessions end when the app restarts; that is the safe default.
        key = session_secret.get_secret_value().encode() if session_secret else None
        self._key = key or secrets.token_bytes(32)
        self._session_seconds = session_seconds

    def analyst_for_token(self, token: str) -> str | None:
        """The analyst whose token this is, else None; the time taken says nothing of which."""
        presented = hashlib.sha256(token.strip().encode()).digest()
        found: str | None = None
        for name, digest in self._digests.items():
            if hmac.compare_digest(presented, digest) and token.strip():
                found = name
        return found

    def _fingerprint(self, name: str) -> str:
        return hmac.new(self._key, b"fp\x00" + self._digests[name], hashlib.sha256).hexdigest()[:16]

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, b"session\x00" + payload, hashlib.sha256).digest())

    def issue(self, name: str, *, now: float | None = None) -> tuple[str, Analyst]:
        """A session cookie value for ``name``, and the session it stands for."""
        csrf = secrets.token_urlsafe(32)
        expires = int((now if now is not None else time.time()) + self._session_seconds)
        payload = json.dumps(
            {"a": name, "c": csrf, "e": expires, "f": self._fingerprint(name)},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{self._sign(payload)}", Analyst(name=name, csrf=csrf)

    def verify(self, cookie: str, *, now: float | None = None) -> Analyst | None:
        """The session a cookie carries, if it is genuine, unexpired and its token unchanged."""
        body, _, signature = cookie.partition(".")
        if not body or not signature or len(cookie) > 1024:
            return None
        try:
            payload = _unb64(body)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data = json.loads(payload)
            name, csrf, expires, fingerprint = data["a"], data["c"], data["e"], data["f"]
        except (ValueError, KeyError, TypeError):
            return None
        if (
            not isinstance(name, str)
            or name not in self._digests
            or not isinstance(csrf, str)
            or not _CSRF_RE.fullmatch(csrf)
            or not isinstance(expires, int)
            or expires < (now if now is not None else time.time())
            or not isinstance(fingerprint, str)
            or not hmac.compare_digest(fingerprint, self._fingerprint(name))
        ):
            return None
        return Analyst(name=name, csrf=csrf)


def csrf_ok(analyst: Analyst, presented: object) -> bool:
    """Whether a form's or header's CSRF token is this session's."""
    return (
        analyst.csrf is not None
        and isinstance(presented, str)
        and hmac.compare_digest(analyst.csrf.encode(), presented.encode())
    )
