"""Test-wide settings: property tests are reproducible in CI and never time out on a busy box."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# CI replays the same examples every run, so a red build is reproducible, not a coin toss.
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
