"""What every writer shows the same way: evidence values as a reader writes them (no Python list
or None syntax), remediations that are pointers to other findings rather than fixes, and the reason
a risk was accepted."""

from __future__ import annotations

import re
from typing import Any

NOTHING = "-"  # an absent value; "none" could be a value a host holds


def shown(value: Any) -> str:
    """VALUE of a finding's evidence as text: a list as its items joined by commas, nothing as -,
    a truth value as yes or no; the JSON report keeps the value as it is."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(map(shown, value)) if value else NOTHING
    if isinstance(value, dict):
        return ", ".join(f"{key}: {shown(item)}" for key, item in value.items()) or NOTHING
    return str(value)


def is_pointer(remediation: str | None) -> bool:
    """Whether a remediation only points at other findings ("see dns.*") instead of saying a fix:
    it is shown under its finding, never among the fix lines."""
    return bool(remediation) and str(remediation).startswith("see ")


def pointed(remediation: str, findings: list[dict[str, Any]]) -> str:
    """A pointer with each check it names that passed marked so: "see dns.migration-host-address
    and route.egress-interface (passed)" sends no one to a check that found nothing."""
    passed = {f["id"] for f in findings if f["status"] == "pass"}
    return re.sub(r"[a-z0-9-]+\.[a-z0-9-]+", lambda m: m[0] + (" (passed)" if m[0] in passed else ""), remediation)


def fixes_of(findings: list[dict[str, Any]]) -> list[str]:
    """Every fix of what did not pass and is not an accepted risk, once, in finding order."""
    lines = [
        f["remediation"]
        for f in findings
        if f["remediation"] and not is_pointer(f["remediation"]) and not f["ignored"]
        and f["status"] in ("fail", "error", "warn")
    ]  # fmt: skip
    return list(dict.fromkeys(lines))


def reason(report: dict[str, Any], finding: dict[str, Any]) -> str | None:
    """Why FINDING was accepted as a risk (--ignore ID=REASON, by its id or its area)."""
    reasons = {item["id"]: item["reason"] for item in report.get("accepted_risks") or []}
    return reasons.get(finding["id"]) or reasons.get(finding["area"])


def accepted(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings accepted as risks that did not pass (an ignored check that passed risks nothing)."""
    return [f for f in findings if f["ignored"] and f["status"] in ("fail", "error", "warn")]


def run_by_lines(report: dict[str, Any]) -> list[str]:
    """Who ran it, where, for which change, with which command line (schema 3 reports)."""
    by = report.get("run_by")
    if not by:
        return []
    lines = [f"Run by {by['user']} on {by['host']}" + (f" for {by['change_ref']}" if by["change_ref"] else "")]
    return lines + [f"Command: {by['command']}"]
