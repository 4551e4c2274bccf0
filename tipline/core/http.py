"""What the two HTTP services (public web intake, analysts' review app) share: security headers,
the one same-origin rule for state-changing forms, and credential digests."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, Final

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tipline.core.errors import ConfigurationError

Header = tuple[bytes, bytes]

BASE_SECURITY_HEADERS: Final[tuple[Header, ...]] = (
    # Not "no-referrer": with it Chromium sends ``Origin: null`` on our own form posts, which
    # cannot be told apart from a sandboxed foreign frame. "same-origin" sends nothing to other
    # sites (no tip URL leaks) and lets our own posts carry our real Origin.
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (
        b"permissions-policy",
        b"camera=(), microphone=(), geolocation=(), interest-cohort=(), browsing-topics=()",
    ),
)
HSTS_HEADER: Final[Header] = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Strict headers on every answer, no ``server`` header, and nothing but ``/static/`` may be
    cached: tip pages and receipts must not linger in a shared computer's or proxy's cache."""

    def __init__(
        self, app: ASGIApp, *, csp: bytes, extra: tuple[Header, ...] = (), hsts: bool
    ) -> None:
        self.app = app
        self.headers = (
            ((b"content-security-policy", csp),)
            + BASE_SECURITY_HEADERS
            + extra
            + ((HSTS_HEADER,) if hsts else ())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers.extend(self.headers)
                if not static:
                    headers.append((b"cache-control", b"no-store, max-age=0"))
                    headers.append((b"pragma", b"no-cache"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def document_bearer_auth(app: FastAPI, description: str) -> None:
    """Declare the ``bearer`` security scheme in the app's OpenAPI description (FastAPI only
    adds schemes it derives from dependencies, and ours are checked by hand)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": description}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def credential_digests(
    credentials: Mapping[str, SecretStr],
    *,
    holder: str,
    key_label: str,
    name_pattern: re.Pattern[str],
    min_chars: int = 16,
) -> dict[str, bytes]:
    """Holder name -> sha256 of their secret (API key, access token), checked at start-up: a
    name that could not appear in ids or logs, or a guessable secret, stops the service.
    Requests are then checked against digests in constant time; the secrets are not kept."""
    digests: dict[str, bytes] = {}
    for name, secret in credentials.items():
        if not name_pattern.fullmatch(name):
            raise ConfigurationError(f"{holder} name {name!r} must match {name_pattern.pattern}")
        value = secret.get_secret_value()
        if len(value) < min_chars:
            raise ConfigurationError(
                f"{key_label} of {holder} {name!r} is shorter than {min_chars} characters"
            )
        digests[name] = hashlib.sha256(value.encode()).digest()
    return digests


class Origin(Enum):
    """Where a browser says a request came from (``origin_of``)."""

    SAME = "same"  # our own page: Origin equals this site, or Sec-Fetch-Site says so
    UNKNOWN = "unknown"  # no Origin, or the opaque "null" (privacy modes, old browsers, curl)
    FOREIGN = "foreign"  # another site: refused whatever token it carries


def origin_of(headers: Mapping[str, str], host: str | None) -> Origin:
    """The one same-origin rule of both web apps, for every state-changing form.

    It only says whether a browser *told* us the request comes from another site: the CSRF
    token is the real check and is required whatever this answers (an absent Origin is not a
    pass). ``Sec-Fetch-Site`` (sent by every current browser, and not settable by a page)
    decides first; then ``Origin`` against ``Host`` (scheme ignored: TLS may end at a proxy).
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        return Origin.FOREIGN
    origin = headers.get("origin")
    if origin is not None and origin != "null":
        _scheme, sep, rest = origin.partition("://")
        if not sep or not host or rest.lower() != host.lower():
            return Origin.FOREIGN
        return Origin.SAME
    if fetch_site == "same-origin":
        return Origin.SAME
    return Origin.UNKNOWN


def tokens_match(expected: str | None, presented: object) -> bool:
    """Whether a presented CSRF token is the expected one, in constant time."""
    return (
        isinstance(expected, str)
        and bool(expected)
        and isinstance(presented, str)
        and hmac.compare_digest(expected.encode(), presented.encode())
    )
