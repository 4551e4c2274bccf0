"""Unit tests for review/api_auth.py: scripts' access tokens and the CSRF comparison."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from review.api_auth import Analyst, Authenticator, csrf_ok
from tipline.core.errors import ConfigurationError

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"


def make(tokens: dict[str, str] | None = None) -> Authenticator:
    tokens = tokens if tokens is not None else {"alice": ALICE, "bob": BOB}
    return Authenticator({k: SecretStr(v) for k, v in tokens.items()})


@pytest.mark.parametrize(
    "tokens",
    [{"alice": "short"}, {"al ice": ALICE}, {"<b>": ALICE}, {"": ALICE}],
)
def test_bad_configuration_is_refused(tokens: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        make(tokens)


def test_no_tokens_is_allowed_since_accounts_exist() -> None:
    assert make({}).analyst_for_token(ALICE) is None


@pytest.mark.parametrize(
    ("token", "analyst"),
    [(ALICE, "alice"), (f"  {BOB} ", "bob"), ("", None), (ALICE[:-1], None), (ALICE + "x", None)],
)
def test_analyst_for_token(token: str, analyst: str | None) -> None:
    assert make().analyst_for_token(token) == analyst


def test_token_of_checks_the_name_too() -> None:
    auth = make()
    assert auth.token_of("alice", ALICE)
    assert not auth.token_of("bob", ALICE)
    assert not auth.token_of("carol", ALICE)


@pytest.mark.parametrize(
    ("session_csrf", "presented", "ok"),
    [
        ("a" * 43, "a" * 43, True),
        ("a" * 43, "b" * 43, False),
        ("a" * 43, "", False),
        ("a" * 43, None, False),
        ("a" * 43, 43, False),
        (None, "a" * 43, False),
        (None, "", False),
    ],
)
def test_csrf_ok(session_csrf: str | None, presented: object, ok: bool) -> None:
    assert csrf_ok(Analyst(name="alice", csrf=session_csrf), presented) is ok
