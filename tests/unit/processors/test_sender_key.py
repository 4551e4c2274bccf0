"""Sender keys count senders without naming them."""

from __future__ import annotations

import pytest

from processors.sender_key import SenderKeyer

KEYER = SenderKeyer("k1", b"s" * 32)


def test_same_identity_same_key_regardless_of_case_and_space() -> None:
    assert KEYER("email", "Anna@Example.org") == KEYER("email", " anna@example.org ")


def test_different_identities_channels_and_secrets_differ() -> None:
    assert KEYER("email", "a@example.org") != KEYER("email", "b@example.org")
    assert KEYER("email", "anna") != KEYER("social", "anna")
    assert KEYER("email", "a@example.org") != SenderKeyer("k1", b"t" * 32)("email", "a@example.org")


def test_key_names_its_secret_and_hides_the_identity() -> None:
    key = KEYER("email", "anna@example.org")
    assert key.startswith("k1:")
    assert "anna" not in key
    rotated = SenderKeyer("k2", b"u" * 32)("email", "anna@example.org")
    assert rotated.startswith("k2:") and rotated != key


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        SenderKeyer("k1", b"short")
