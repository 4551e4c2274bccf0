"""The one same-origin rule both web apps use (tipline/core/http.py ``origin_of``)."""

from __future__ import annotations

import pytest

from tipline.core.http import BASE_SECURITY_HEADERS, Origin, origin_of, tokens_match

HOST = "review.example:8090"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # What Chromium sends for our own form with Referrer-Policy: same-origin.
        ({"origin": "http://review.example:8090", "sec-fetch-site": "same-origin"}, Origin.SAME),
        ({"origin": "https://REVIEW.example:8090"}, Origin.SAME),
        # "null" (no-referrer pages, privacy modes) and no Origin at all: the token decides.
        ({"origin": "null"}, Origin.UNKNOWN),
        ({}, Origin.UNKNOWN),
        ({"sec-fetch-site": "none"}, Origin.UNKNOWN),
        ({"sec-fetch-site": "same-origin"}, Origin.SAME),
        # Another site, however it shows.
        ({"origin": "https://evil.example"}, Origin.FOREIGN),
        ({"origin": "https://review.example:8090.evil.example"}, Origin.FOREIGN),
        ({"origin": "review.example:8090"}, Origin.FOREIGN),  # no scheme: not a browser's
        ({"origin": "null", "sec-fetch-site": "cross-site"}, Origin.FOREIGN),  # sandboxed frame
        ({"sec-fetch-site": "same-site"}, Origin.FOREIGN),
        (
            {"origin": "http://review.example:8090", "sec-fetch-site": "cross-site"},
            Origin.FOREIGN,
        ),
    ],
)
def test_origin_of(headers: dict[str, str], expected: Origin) -> None:
    assert origin_of(headers, HOST) is expected


def test_a_real_origin_without_host_is_foreign() -> None:
    assert origin_of({"origin": "http://a.example"}, None) is Origin.FOREIGN


@pytest.mark.parametrize(
    ("expected", "presented", "ok"),
    [
        ("x" * 43, "x" * 43, True),
        ("x" * 43, "y" * 43, False),
        ("", "", False),
        (None, "a", False),
        ("x", None, False),
    ],
)
def test_tokens_match(expected: str | None, presented: object, ok: bool) -> None:
    assert tokens_match(expected, presented) is ok


def test_referrer_policy_lets_our_own_posts_carry_their_origin() -> None:
    # "no-referrer" made Chromium post Origin: null, which the console refused (issue #8).
    assert dict(BASE_SECURITY_HEADERS)[b"referrer-policy"] == b"same-origin"
