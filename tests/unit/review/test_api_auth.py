"""Unit tests for review/api_auth.py: tokens, signed sessions, expiry, revocation, CSRF."""

from __future__ import annotations

import base64
import json

import pytest
from pydantic import SecretStr

from review.api_auth import Analyst, Authenticator, csrf_ok
from tipline.errors import ConfigurationError

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"
SECRET = SecretStr("session-secret-for-tests-0123456789")
NOW = 1_700_000_000.0


def make(tokens: dict[str, str] | None = None, secret: SecretStr | None = SECRET) -> Authenticator:
    tokens = tokens if tokens is not None else {"alice": ALICE, "bob": BOB}
    return Authenticator({k: SecretStr(v) for k, v in tokens.items()}, secret, 3600)


@pytest.mark.parametrize(
    "tokens",
    [{}, {"alice": "short"}, {"al ice": ALICE}, {"<b>": ALICE}, {"": ALICE}],
)
def test_bad_configuration_is_refused(tokens: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        make(tokens)


@pytest.mark.parametrize(
    ("token", "analyst"),
    [(ALICE, "alice"), (f"  {BOB} ", "bob"), ("", None), (ALICE[:-1], None), (ALICE + "x", None)],
)
def test_analyst_for_token(token: str, analyst: str | None) -> None:
    assert make().analyst_for_token(token) == analyst


def test_session_round_trip_and_expiry() -> None:
    auth = make()
    cookie, session = auth.issue("alice", now=NOW)
    assert session.name == "alice" and session.csrf
    assert auth.verify(cookie, now=NOW + 10) == session
    assert auth.verify(cookie, now=NOW + 3601) is None
    # A second session has its own CSRF token.
    assert auth.issue("alice", now=NOW)[1].csrf != session.csrf


def _reencode(cookie: str, **changes: object) -> str:
    body, _, signature = cookie.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + signature


@pytest.mark.parametrize("changes", [{"a": "bob"}, {"e": 9_999_999_999}, {"c": "x" * 43}])
def test_edited_session_is_refused(changes: dict[str, object]) -> None:
    auth = make()
    cookie, _ = auth.issue("alice", now=NOW)
    assert auth.verify(_reencode(cookie, **changes), now=NOW) is None


@pytest.mark.parametrize("cookie", ["", ".", "abc", "abc.", ".abc", "!!!.???", "x" * 2000])
def test_garbage_cookies_are_refused(cookie: str) -> None:
    assert make().verify(cookie, now=NOW) is None


def test_changing_or_removing_a_token_ends_its_sessions() -> None:
    cookie, _ = make().issue("alice", now=NOW)
    assert make().verify(cookie, now=NOW) is not None  # same secret, same tokens: still valid
    assert make({"alice": "alice-new-token-0123456789", "bob": BOB}).verify(cookie, now=NOW) is None
    assert make({"bob": BOB}).verify(cookie, now=NOW) is None
    assert (
        make(secret=SecretStr("another-session-secret-0123456789")).verify(cookie, now=NOW) is None
    )


def test_without_a_secret_sessions_do_not_survive_a_restart() -> None:
    cookie, _ = make(secret=None).issue("alice", now=NOW)
    assert make(secret=None).verify(cookie, now=NOW) is None


def test_csrf_ok() -> None:
    _, session = make().issue("alice", now=NOW)
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, "")
    assert not csrf_ok(session, None)
    token = session.csrf or ""
    assert not csrf_ok(session, token[:-1] + ("B" if token.endswith("A") else "A"))
    # Bearer-token callers have no session and no CSRF token to match.
    assert not csrf_ok(Analyst(name="alice"), "anything")
