"""Follow-up receipt codes: made from random bytes, typed back forgivingly, checked by argon2."""

from __future__ import annotations

import pytest

from ingest.followup import format_code, issue_receipt, parse_code, verify_secret


def test_a_receipt_verifies_only_its_own_secret() -> None:
    issued = issue_receipt()
    lookup, secret = parse_code(issued.code) or ("", "")
    assert lookup == issued.stored.lookup_id
    assert secret not in issued.stored.secret_hash
    assert verify_secret(issued.stored.secret_hash, secret)
    assert not verify_secret(issued.stored.secret_hash, secret[::-1])
    other = issue_receipt()
    assert other.stored.lookup_id != issued.stored.lookup_id
    assert not verify_secret(other.stored.secret_hash, secret)


@pytest.mark.parametrize(
    "typed",
    [
        "abcd-efgh-ij23-4567-abcd-efgh-ij",
        "ABCD EFGH IJ23 4567 ABCD EFGH IJ",
        "  abcdefghij234567abcdefghij \n",
        "abcd.efgh_ij23-4567 abcd-efgh-ij",
    ],
)
def test_codes_are_read_as_people_type_them(typed: str) -> None:
    assert parse_code(typed) == ("abcdefghij", "234567abcdefghij")


def test_look_alike_digits_are_read_as_letters() -> None:
    assert parse_code("0000-1111-8888-0000-0000-0000-00") == (
        "oooollllbb",
        "bbooooooooooooooo"[:16],
    )


@pytest.mark.parametrize(
    "typed", ["", "abc", "abcdefghij234567abcdefghi", "abcdefghij234567abcdefghij9", "ä" * 26]
)
def test_malformed_codes_are_refused(typed: str) -> None:
    assert parse_code(typed) is None


def test_codes_are_shown_in_groups_of_four() -> None:
    assert format_code("abcdefghij") == "abcd-efgh-ij"


def test_a_malformed_hash_never_verifies() -> None:
    assert not verify_secret("not a hash", "abcdefghij234567")
