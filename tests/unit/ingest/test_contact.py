"""Sealed contact details: only the private key's holder can read them."""

from __future__ import annotations

import pytest

from ingest.contact import MAX_CONTACT_CHARS, new_key_pair, open_contact, seal_contact
from schemas import RawTip
from tipline.core.errors import ConfigurationError, InvalidInputError

PUBLIC, PRIVATE = new_key_pair()


def test_round_trip_with_the_private_key() -> None:
    sealed = seal_contact("  anna@example.org ", PUBLIC)
    assert "anna" not in sealed
    assert open_contact(sealed, PRIVATE) == "anna@example.org"


def test_sealing_twice_gives_different_ciphertexts() -> None:
    # Ephemeral keys per message: equal contacts cannot be linked by their ciphertext.
    assert seal_contact("+43 660 1234567", PUBLIC) != seal_contact("+43 660 1234567", PUBLIC)


def test_another_key_cannot_open_it() -> None:
    _, other_private = new_key_pair()
    with pytest.raises(InvalidInputError):
        open_contact(seal_contact("anna@example.org", PUBLIC), other_private)


@pytest.mark.parametrize("contact", ["", "   ", "x" * (MAX_CONTACT_CHARS + 1)])
def test_empty_or_oversize_contact_is_refused(contact: str) -> None:
    with pytest.raises(InvalidInputError):
        seal_contact(contact, PUBLIC)


@pytest.mark.parametrize("key", ["", "not base64!", "c2hvcnQ="])
def test_bad_keys_are_configuration_errors(key: str) -> None:
    with pytest.raises(ConfigurationError):
        seal_contact("anna@example.org", key)


def test_the_schema_carries_ciphertext_only() -> None:
    sealed = seal_contact("anna@example.org", PUBLIC)
    tip = RawTip(
        tip_id="w-1",
        channel="web",
        received_at="2026-11-22T10:00:00Z",
        body="x",
        sealed_contact=sealed,
    )
    assert tip.sealed_contact == sealed
    with pytest.raises(ValueError, match="sealed_contact"):
        RawTip(
            tip_id="w-1",
            channel="web",
            received_at="2026-11-22T10:00:00Z",
            body="x",
            sealed_contact="anna@example.org, call me",
        )
