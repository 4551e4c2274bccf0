"""Who is asking: analysts' access tokens (for scripts), the session an analyst holds, CSRF.

Browsers sign in with a name and password (``review.accounts``) or, for an analyst who has
only a token, with that token as the password; the session is kept server-side
(``review.console_store``), the cookie carries only its random id. Scripts send
``Authorization: Bearer <token>`` (``settings.review_tokens``); a token analyst has the role
"analyst". Every check of a credential is throttled (``review.throttle``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import SecretStr

from review.accounts import NAME_RE, Role
from tipline.core.http import credential_digests, tokens_match

MIN_TOKEN_CHARS: Final = 16
_ANALYST_RE: Final = NAME_RE
CSRF_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Analyst:
    """An authenticated analyst; ``csrf`` is set only for cookie sessions (browsers)."""

    name: str
    role: Role = "analyst"
    csrf: str | None = None


class Authenticator:
    """Checks scripts' access tokens against their digests; holds no per-user state."""

    def __init__(self, tokens: Mapping[str, SecretStr]) -> None:
        self._digests = credential_digests(
            tokens,
            holder="review analyst",
            key_label="access token",
            name_pattern=_ANALYST_RE,
            min_chars=MIN_TOKEN_CHARS,
        )

    def analyst_for_token(self, token: str) -> str | None:
        """The analyst whose token this is, else None; the time taken says nothing of which."""
        presented = hashlib.sha256(token.strip().encode()).digest()
        found: str | None = None
        for name, digest in self._digests.items():
            if hmac.compare_digest(presented, digest) and token.strip():
                found = name
        return found

    def token_of(self, name: str, token: str) -> bool:
        """Whether ``token`` is the access token of analyst ``name``."""
        return self.analyst_for_token(token) == name


def csrf_ok(analyst: Analyst, presented: object) -> bool:
    """Whether a form's or header's CSRF token is this session's."""
    return tokens_match(analyst.csrf, presented)
