"""Unit tests for ingest/ratelimit.py and ingest/i18n.py, the web intake's two helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.i18n import LANGUAGES, LOCALES_DIR, load_catalogues, negotiate
from ingest.ratelimit import RateLimiter, SourceKeyer, retry_after_header
from tipline.core.errors import ConfigurationError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- rate limiter --------------------------------------------------------------------------


def test_burst_then_refusal_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=0.5, burst=3, clock=clock)
    assert [limiter.hit(b"a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.hit(b"a")
    assert wait == pytest.approx(2.0)  # one token per 2 s
    clock.now += 1.0
    assert limiter.hit(b"a") == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.hit(b"a") == 0.0
    assert limiter.hit(b"a") > 0.0


def test_sources_are_independent() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=FakeClock())
    assert limiter.hit(b"a") == 0.0
    assert limiter.hit(b"a") > 0.0
    assert limiter.hit(b"b") == 0.0


def test_entries_expire_once_their_bucket_is_full_again() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2.0, burst=4, clock=clock)
    for source in (b"a", b"b", b"c"):
        limiter.hit(source)
    assert len(limiter) == 3
    clock.now += limiter.ttl - 0.01
    limiter.hit(b"a")
    assert len(limiter) == 3
    clock.now += 0.02
    limiter.hit(b"d")  # b and c are forgotten; a was touched recently
    assert len(limiter) == 2


def test_table_is_bounded_under_a_flood_of_sources() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1.0, burst=2, max_keys=100, clock=clock)
    allowed = sum(limiter.hit(i.to_bytes(4, "big")) == 0.0 for i in range(1000))
    assert allowed == 100
    assert len(limiter) == 100
    clock.now += limiter.ttl
    assert limiter.hit(b"new") == 0.0


@settings(max_examples=100, deadline=None)
@given(
    rate=st.floats(0.1, 50.0),
    burst=st.integers(1, 20),
    gaps=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=200),
)
def test_never_more_than_burst_plus_refill(rate: float, burst: int, gaps: list[float]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=rate, burst=burst, clock=clock)
    start = clock.now
    allowed = 0
    for gap in gaps:
        clock.now += gap
        if limiter.hit(b"x") == 0.0:
            allowed += 1
        # the bound holds at every moment, not only at the end
        assert allowed <= burst + rate * (clock.now - start) + 1e-6


@settings(max_examples=50, deadline=None)
@given(rate=st.floats(0.1, 50.0), burst=st.integers(1, 20), extra=st.integers(1, 30))
def test_waiting_retry_after_is_enough(rate: float, burst: int, extra: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=rate, burst=burst, clock=clock)
    for _ in range(burst + extra):
        wait = limiter.hit(b"x")
        if wait:
            clock.now += wait + 1e-9
            assert limiter.hit(b"x") == 0.0


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.9, "60")])
def test_retry_after_rounds_up(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header


def test_source_keys_are_keyed_and_unlinkable_across_processes() -> None:
    first, second = SourceKeyer(), SourceKeyer()
    ip = "203.0.113.7"
    assert first.key(ip) == first.key(ip)
    assert first.key(ip) != first.key("203.0.113.8")
    # A fresh process key: yesterday's rate-limit keys cannot be matched to today's.
    assert first.key(ip) != second.key(ip)
    assert ip.encode() not in first.key(ip)
    assert len(first.key(ip)) == 16


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 5), (1.0, 0)])
def test_limiter_refuses_nonsense_settings(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate=rate, burst=burst)


# --- languages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "requested", "expected"),
    [
        (None, None, "en"),
        ("", None, "en"),
        ("de-AT,de;q=0.9,en;q=0.5", None, "de"),
        ("fr-CH, fr;q=0.9, en;q=0.8", None, "fr"),
        ("ja, es;q=0.3", None, "es"),
        ("ja, zh-CN", None, "en"),
        ("en;q=0.2, pl;q=0.8", None, "pl"),
        ("IT", None, "it"),
        ("pl;q=0, de;q=0.1", None, "de"),
        ("*", None, "en"),
        ("es;q=0.5, it;q=0.5", None, "es"),  # ties keep the header's order
        ("de", "it", "it"),  # the switcher wins
        ("de", "xx", "de"),  # an unknown switcher value is ignored
        ("de", "PL", "pl"),
        ("de;q=abc, fr", None, "fr"),
        ("de;q=2, fr;q=0.5", None, "fr"),  # q above 1 is malformed, not "more preferred"
    ],
)
def test_negotiate(header: str | None, requested: str | None, expected: str) -> None:
    assert negotiate(header, requested) == expected


@settings(max_examples=300, deadline=None)
@given(header=st.text(max_size=300), requested=st.none() | st.text(max_size=10))
def test_negotiate_always_answers_a_supported_language(header: str, requested: str | None) -> None:
    assert negotiate(header, requested) in LANGUAGES


def test_shipped_catalogues_are_complete_and_translated() -> None:
    catalogues = load_catalogues()
    assert set(catalogues) == set(LANGUAGES)
    english = catalogues["en"]
    for lang, messages in catalogues.items():
        assert all(text.strip() for text in messages.values()), lang
        assert "{ref}" in messages["object_generic_title"], lang
        if lang != "en":
            # A copied English catalogue would pass the key check; most texts must differ.
            same = [k for k in english if messages[k] == english[k]]
            assert len(same) <= 1, (lang, same)


def test_incomplete_catalogue_is_a_configuration_error(tmp_path: Path) -> None:
    for lang in LANGUAGES:
        messages = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        if lang == "pl":
            del messages["submit"]
        (tmp_path / f"{lang}.json").write_text(json.dumps(messages), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="submit"):
        load_catalogues(tmp_path)


def test_credential_throttle_locks_one_source_and_forgets_it() -> None:
    from ingest.ratelimit import SourceKeyer
    from ingest.web_limits import CredentialThrottle

    now = [0.0]
    throttle = CredentialThrottle(
        SourceKeyer(), per_source=(0.2, 10), overall=(100.0, 1000), clock=lambda: now[0]
    )
    for _ in range(10):
        assert throttle.blocked("198.51.100.7") == 0.0
        throttle.failed("198.51.100.7")
    throttle.failed("198.51.100.7")
    assert throttle.blocked("198.51.100.7") > 0.0
    assert throttle.blocked("203.0.113.9") == 0.0  # another client is unaffected
    now[0] += 60.0
    assert throttle.blocked("198.51.100.7") == 0.0
    # No address is held, only keyed hashes.
    assert all(b"198.51" not in key for key in throttle._locked)


def test_rate_limit_refusals_are_counted_by_the_limit_that_refused() -> None:
    from prometheus_client import REGISTRY

    from ingest.web_limits import RateLimits
    from tipline.core.settings import Settings

    def refused(limit: str) -> float:
        return REGISTRY.get_sample_value("tipline_rate_limited_total", {"limit": limit}) or 0.0

    before = {limit: refused(limit) for limit in ("partner", "overall")}
    limits = RateLimits(
        Settings(
            web_partner_rate=0.001, web_partner_burst=3, web_global_rate=0.001, web_global_burst=5
        )
    )
    answers = [limits.api("museum") for _ in range(4)]  # the fourth is over the partner's burst
    assert [a > 0 for a in answers] == [False, False, False, True]
    assert refused("partner") - before["partner"] == 1
    assert [limits.api("archive") > 0 for _ in range(3)] == [False, False, True]  # overall: 5
    assert refused("overall") - before["overall"] == 1
