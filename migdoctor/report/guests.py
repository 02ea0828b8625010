"""What every writer shows of a report's guests and plan: the guest x destination table, why a
guest cannot go somewhere, and the plan in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STATUS_ORDER = ("fail", "error", "skip", "warn")  # worst first


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
    """The findings that keep the guest from a clean move, worst first: failures and errors, what
    could not be told (SKIP) when that left it incomplete, then warnings; those accepted as risks
    are not among them."""
    shown = STATUS_ORDER if guest["verdict"] == "incomplete" else tuple(s for s in STATUS_ORDER if s != "skip")
    found = [f for f in guest["findings"] if f["status"] in shown and not f["ignored"]]
    return sorted(found, key=lambda f: STATUS_ORDER.index(f["status"]))


def why_not(guest: dict[str, Any]) -> str | None:
    """One line saying why a guest cannot go to its destination (None when it can)."""
    if guest["verdict"] in ("pass", "warn"):
        return None
    failing = [f for f in blocking(guest) if f["status"] != "warn"]  # the incomplete's SKIPs too
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


def predicted(guest: dict[str, Any]) -> str | None:
    """A guest's predicted migration in a few words: `38.5 s, 61 ms down, ends at 77 s`, `does not
    converge`, or None when it was not predicted."""
    found = guest.get("prediction")
    if not found:
        return None
    if "reason" in found:
        return "not predicted"
    if not found["converges"]:
        return "does not converge"
    ends = f", ends at {found['ends_at_s']:g} s" if "ends_at_s" in found else ""
    return f"{found['total_s']:g} s, {found['downtime_ms']:g} ms down{ends}"


def predictions(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """predicted() of every guest at every destination, by (guest, destination)."""
    return {
        (guest["name"], guest["destination"]): words
        for guest in report.get("guests") or []
        if (words := predicted(guest)) is not None
    }


def evacuation_line(report: dict[str, Any]) -> str | None:
    """The evacuation's schedule against the window in one line, or None when it was not predicted."""
    found = report.get("evacuation")
    if found is None:
        return None
    at_once = f"{found['parallel']} at a time" if found["parallel"] > 1 else "one at a time"
    total = f"{found['total_s']:g} s" if found["total_s"] is not None else "unknown"
    line = f"evacuation ({at_once}): {total}"
    if found["window_s"] is not None:
        verdict = {True: "fits", False: "does NOT fit", None: "cannot tell whether it fits"}[found["fits"]]
        line += f"; {verdict} the {found['window_s']:g} s window"
    if found["missing_window_by"]:
        line += f"; missed by {', '.join(found['missing_window_by'])}"
    if found["not_predicted"]:
        line += f"; not predicted: {', '.join(found['not_predicted'])}"
    return line
