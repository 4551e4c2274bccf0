"""Unit tests for review/accounts.py: argon2 hashes, account rules, role sets."""

from __future__ import annotations

import pytest

from review.accounts import (
    EVERYONE,
    READERS,
    SUPERVISORS,
    check_new,
    hash_password,
    password_matches,
)
from tipline.core.errors import ConfigurationError


def test_argon2id_round_trip_and_salting() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert password_matches(first, "correct horse battery")
    assert not password_matches(first, "correct horse batterY")


@pytest.mark.parametrize("phc", [None, "", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$x$y"])
def test_malformed_or_missing_hashes_never_match(phc: str | None) -> None:
    assert not password_matches(phc, "not a password of anyone")
    assert not password_matches(phc, "")


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [
        ("ana lyst", "analyst", "x" * 12),
        ("ana", "admin", "x" * 12),
        ("ana", "analyst", "short"),
        ("", "ops", "x" * 12),
        ("<b>", "ops", "x" * 12),
    ],
)
def test_bad_accounts_are_refused(name: str, role: str, password: str) -> None:
    with pytest.raises(ConfigurationError):
        check_new(name, role, password)


def test_ops_never_read_tips() -> None:
    assert "ops" not in READERS and SUPERVISORS < READERS < EVERYONE
