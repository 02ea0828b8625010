"""The evacuation plan: which guest goes to which destination. First fit by memory, in the guests'
order: a destination takes a guest only when the guest's verdict there is pass or warn and its
free memory, less what the guests placed there before take, holds the guest. A guest that fits
nowhere gets the reason from each destination."""

from __future__ import annotations

from typing import Any

from migdoctor.units import human_bytes

PLACEABLE = ("pass", "warn")


def plan_evacuation(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ENTRIES: the judged `guests` report entries (name, destination, verdict, findings), each with
    `memory_bytes` (the guest's memory) and `free_memory_bytes` (the destination's, None when not
    collected). One `plan` item per guest, in the order guests first appear."""
    by_guest: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_guest.setdefault(entry["name"], []).append(entry)
    taken: dict[str, int] = {}
    plan = []
    for name, options in by_guest.items():
        reasons = []
        for entry in options:
            reason = refusal(entry, taken.get(entry["destination"], 0))
            if reason is None:
                taken[entry["destination"]] = taken.get(entry["destination"], 0) + entry["memory_bytes"]
                plan.append({"guest": name, "destination": entry["destination"], "reason": None})
                break
            reasons.append(f"{entry['destination']}: {reason}")
        else:
            plan.append({"guest": name, "destination": None, "reason": "; ".join(reasons) or "no destination judged"})
    return plan


def refusal(entry: dict[str, Any], taken: int) -> str | None:
    """Why ENTRY's destination cannot take its guest now that TAKEN bytes are planned there, or None."""
    if entry["verdict"] not in PLACEABLE:
        found = entry.get("findings", ())
        blocking = [f"{f['id']}: {f['summary']}" for f in found if f["status"] in ("fail", "error")] or [
            f"{f['id']}: {f['summary']}"
            for f in found
            if f["status"] == "skip"  # what left it incomplete
        ]
        return f"{entry['verdict']}" + (f" ({'; '.join(blocking)})" if blocking else "")
    free = entry.get("free_memory_bytes")
    if free is None:
        return "its free memory was not collected"
    if free - taken < entry["memory_bytes"]:
        return (
            f"{human_bytes(max(free - taken, 0))} free after the guests planned there; "
            f"needs {human_bytes(entry['memory_bytes'])}"
        )
    return None
