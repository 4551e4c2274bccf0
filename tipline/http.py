"""Security headers shared by the two HTTP services (public web intake, analysts' review app)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tipline.errors import ConfigurationError

Header = tuple[bytes, bytes]

BASE_SECURITY_HEADERS: Final[tuple[Header, ...]] = (
    (b"referrer-policy", b"no-referrer"),
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
