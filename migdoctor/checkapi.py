"""The check API: what a check declares and what it returns. Checks import only this module
(and the pure helpers in migdoctor.judging); they never touch a host."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9-]+)?$")
SEVERITIES = ("critical", "high", "medium", "low")


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


@dataclass(frozen=True)
class Evidence:
    """One observed value on one host beside the value the check expected there."""

    host: str
    item: str
    actual: Any
    expected: Any = None


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner adds identity, timing and ignore marks."""

    status: Status
    summary: str
    evidence: tuple[Evidence, ...] = ()
    remediation: str | None = None


def passed(summary: str, *evidence: Evidence) -> Outcome:
    return Outcome(Status.PASS, summary, evidence)


def warned(summary: str, *evidence: Evidence, remediation: str | None = None) -> Outcome:
    return Outcome(Status.WARN, summary, evidence, remediation)


def failed(summary: str, *evidence: Evidence, remediation: str | None = None) -> Outcome:
    return Outcome(Status.FAIL, summary, evidence, remediation)


def skipped(summary: str) -> Outcome:
    return Outcome(Status.SKIP, summary)


SCOPES = ("pair", "destination", "guest")


class Skip(Exception):
    """Raised inside a check when a fact it needs is absent: the finding becomes SKIP."""


@dataclass(frozen=True)
class Check:
    """A check's metadata and function. DESCRIPTION says what it verifies, as the condition it
    fails on (docs/checks.md's "Fails when"); RATIONALE why that matters: the failure it prevents, as
    admins met it; FIX what is usually changed (each finding names the exact line). Required of
    built-in checks, optional for third-party ones."""

    id: str
    title: str
    severity: str
    needs: tuple[str, ...]
    run: Callable[..., Outcome]
    origin: str = "built-in"
    description: str = ""
    rationale: str = ""
    fix: str = ""
    # "destination": judged from the destination's facts and the intent alone; "guest": judged per
    # guest and destination from a migdoctor.judging.guest.GuestCase
    scope: str = "pair"

    @cached_property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


@dataclass
class Registry:
    """Checks declared by one module, in declaration order. ORDER places a built-in module's
    checks in listings and reports: the order a migration meets what they check."""

    checks: list[Check] = field(default_factory=list)
    order: int = 1000

    def check(
        self,
        id: str,
        title: str,
        severity: str,
        needs: tuple[str, ...] = (),
        *,
        description: str = "",
        rationale: str = "",
        fix: str = "",
        scope: str = "pair",
    ) -> Callable[[Callable[..., Outcome]], Callable[..., Outcome]]:
        def register(function: Callable[..., Outcome]) -> Callable[..., Outcome]:
            self.checks.append(
                Check(id, title, severity, needs, function, "built-in", description, rationale, fix, scope)
            )
            return function

        return register
