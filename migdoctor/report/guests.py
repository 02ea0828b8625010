"""What every writer shows of a report's guests and plan: the guest x destination table, why a
guest cannot go somewhere, and the plan in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STATUS_ORDER = ("fail", "error", "warn")  # worst first


def destinations(report: dict[str, Any]) -> list[str]:
    """The destinations the guests were judged against, in the report's order."""
    return list(dict.fromkeys(guest["destination"] for guest in report.get("guests") or []))


def guest_table(report: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """One row per guest, in the source's order: its verdict at each destination."""
    rows: dict[str, dict[str, str]] = {}
    for guest in report.get("guests") or []:
        rows.setdefault(guest["name"], {})[guest["destination"]] = guest["verdict"]
    return list(rows.items())


def blocking(guest: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings that keep the guest from a clean move, worst first: failures and errors, then
    warnings; those accepted as risks are not among them."""
    found = [f for f in guest["findings"] if f["status"] in STATUS_ORDER and not f["ignored"]]
    return sorted(found, key=lambda f: STATUS_ORDER.index(f["status"]))


def why_not(guest: dict[str, Any]) -> str | None:
    """One line saying why a guest cannot go to its destination (None when it can)."""
    if guest["verdict"] in ("pass", "warn"):
        return None
    failing = [f for f in blocking(guest) if f["status"] != "warn"]
    if failing:
        return "; ".join(f"{f['id']}: {f['summary']}" for f in failing)
    if guest["not_checked"]:
        return "not checked: " + "; ".join(guest["not_checked"])
    return f"the path {guest['source']} -> {guest['destination']} is {guest['pair_verdict']}"


def plan_lines(report: dict[str, Any], quote: Callable[[str], str] = str) -> list[str]:
    """The plan in words: `web -> hostb`, or `db: stays on hosta: REASON`; QUOTE makes the names
    and reasons safe in the writer's format."""
    sources = {guest["name"]: guest["source"] for guest in report.get("guests") or []}
    return [
        f"{quote(placement['guest'])} -> {quote(placement['destination'])}"
        if placement["destination"] is not None
        else f"{quote(placement['guest'])}: stays on {quote(sources.get(placement['guest'], 'its source'))}: "
        f"{quote(placement['reason'])}"
        for placement in report.get("plan") or []
    ]
