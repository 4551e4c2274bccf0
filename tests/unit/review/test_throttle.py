"""Unit tests for review/throttle.py: failed credential checks slow down, per name and overall."""

from __future__ import annotations

from review.throttle import BEARER, CredentialThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, **kw: float) -> CredentialThrottle:
    limits = {"name_burst": 3, "name_per_minute": 6.0, "global_burst": 10, "global_per_second": 1.0}
    limits.update(kw)
    return CredentialThrottle(clock=clock, **limits)  # type: ignore[arg-type]


def test_a_name_is_slowed_after_its_burst_and_recovers() -> None:
    clock = Clock()
    throttle = make(clock)
    for _ in range(3):
        assert throttle.wait("alice") == 0
        throttle.failed("alice")
    assert throttle.wait("alice") > 0
    assert throttle.wait("bob") == 0  # another name is not slowed by alice's failures
    clock.now += 10  # 6 per minute: one attempt back every 10 s
    assert throttle.wait("alice") == 0
    throttle.failed("alice")
    assert 9 <= throttle.wait("alice") <= 10


def test_names_are_case_folded() -> None:
    clock = Clock()
    throttle = make(clock)
    for name in ("Alice", "ALICE", "alice"):
        throttle.failed(name)
    assert throttle.wait("aLiCe") > 0


def test_the_global_bucket_caps_guessing_over_all_names_and_tokens() -> None:
    clock = Clock()
    throttle = make(clock)
    for n in range(10):
        throttle.failed(f"guess{n}")
    assert throttle.wait("someone-new") > 0
    assert throttle.wait(BEARER) > 0
    clock.now += 1
    assert throttle.wait(BEARER) == 0


def test_a_thousand_wrong_logins_mostly_wait() -> None:
    # The audit's figure: 1,000 wrong logins in 0.86 s, none throttled. Now, in one second,
    # only the bursts get through.
    clock = Clock()
    throttle = make(clock, name_burst=5, global_burst=30)
    tried = 0
    for n in range(1000):
        clock.now += 0.00086
        if throttle.wait("admin" if n % 2 else f"x{n}") == 0:
            tried += 1
            throttle.failed("admin" if n % 2 else f"x{n}")
    assert tried <= 31


def test_the_table_stays_bounded() -> None:
    clock = Clock()
    throttle = CredentialThrottle(
        name_burst=1,
        name_per_minute=1,
        global_burst=10**9,
        global_per_second=1,
        max_names=50,
        clock=clock,
    )
    for n in range(500):
        throttle.failed(f"n{n}")
    assert len(throttle._buckets) <= 50
