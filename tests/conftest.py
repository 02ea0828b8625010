"""Hypothesis profiles, registered before pytest reads its options so `--hypothesis-profile NAME`
can choose one: "ci" (the default: derandomized, the same examples on every run, so a property
test cannot flake) and "fuzz" (2,000 random examples per property, run by hand to search).
HYPOTHESIS_PROFILE=NAME chooses one too; the option wins over it."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
