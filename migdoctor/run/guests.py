"""Judging the source's guests against each destination, once the pairs are judged (a guest's
verdict is never better than its pair's), and planning where each goes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migdoctor.checkapi import Check
from migdoctor.engine import judge_guest
from migdoctor.judging.guest import GuestCase
from migdoctor.judging.plan import plan_evacuation
from migdoctor.report.document import finding_record, guest_record
from migdoctor.run.collect import Collected, Measured

WEIGHED = ("memory_bytes", "free_memory_bytes")  # what the plan weighs, not in the report


def asked_guests(src: Collected, asked: tuple[str, ...]) -> tuple[list[dict[str, Any]], dict[str, str], str | None]:
    """The source's guests entries to judge; each guest asked for by name that has none, with why
    (its facts' `missing` entry `guests.NAME` or `guests`, or the source unreached); and when every
    running guest was asked for but the source's guests are unknown, why."""
    facts = src.facts
    why = src.error or "the source's facts were not collected"
    if facts is not None and "guests" not in facts:
        gaps = {gap["fact"]: gap["reason"] for gap in facts.get("missing") or []}
        why = gaps.get("guests", "its facts hold no guests (collected without --guests?)")
    if facts is None or "guests" not in facts:
        return [], dict.fromkeys(asked, why), None if asked else why
    entries = [entry for entry in facts["guests"] if not asked or entry["name"] in asked]  # saved facts may hold more
    gaps = {gap["fact"]: gap["reason"] for gap in facts.get("missing") or []}
    found = {entry["name"] for entry in entries}
    unfound = {name: gaps.get(f"guests.{name}", "not running on the source") for name in asked if name not in found}
    return entries, unfound, None


@dataclass(frozen=True)
class Judging:
    """What every guest of a run is judged with."""

    checks: list[Check]
    ignored: set[str]
    hosts: dict[str, Collected]
    measured: dict[tuple[str, str], Measured]
    verdicts: dict[tuple[str, str], str]  # each pair's matrix verdict


def judged_at(judging: Judging, guest: dict[str, Any], src: str, dst: str, others: tuple[str, ...]) -> dict[str, Any]:
    """GUEST's report entry at DST, OTHERS already planned there; with what the plan weighs
    (`memory_bytes`, the destination's `free_memory_bytes`) beside it."""
    source, destination = judging.hosts[src].facts, judging.hosts[dst].facts
    if destination is None or source is None:
        findings, not_checked = [], [judging.hosts[dst].error or f"{dst}: its facts were not collected"]
    else:
        lookups = (judging.measured.get((src, dst), Measured()).guests or {}).get(guest["name"], {})
        case = GuestCase(guest, source, destination, src, dst, lookups, others)
        findings = [finding_record(finding) for finding in judge_guest(judging.checks, case, judging.ignored)]
        not_checked = [
            f"{dst}: {gap['fact']} not collected: {gap['reason']}"
            for gap in destination.get("missing") or []
            if gap["fact"] == "virt"
        ]
        if not findings:  # never a pass for a guest nothing judged
            not_checked.append(f"{guest['name']}: no guest check ran (--only selects none)")
        elif not lookups:  # saved facts hold none; a live run that made none says why in the findings
            not_checked.append(f"{guest['name']}: its CPU and storage were not looked up from {src} on {dst}")
    entry = guest_record(guest["name"], src, dst, findings, not_checked, judging.verdicts[(src, dst)])
    free = ((destination or {}).get("virt") or {}).get("free_memory_bytes")
    return {**entry, "memory_bytes": int(guest.get("memory_kib") or 0) * 1024, "free_memory_bytes": free}


def judge_guests(
    judging: Judging, pairs: list[tuple[str, str]], asked: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Each asked guest of each source, in the source's order, judged at every destination with
    the guests planned there before it (the memory they take), then planned (first fit by memory);
    returns the report's `guests` and `plan`, and the lines saying whose guests could not be listed."""
    weighed: list[dict[str, Any]] = []  # the entries with what the plan weighs
    unknown: list[str] = []
    for src in dict.fromkeys(source for source, _ in pairs):
        destinations = [dst for source, dst in pairs if source == src]
        guests, unfound, unlisted = asked_guests(judging.hosts[src], asked)
        if unlisted:
            unknown.append(f"{src}: its running guests are not known: {unlisted}")
        placed: dict[str, list[str]] = {dst: [] for dst in destinations}
        for guest in guests:
            weighed += [judged_at(judging, guest, src, dst, tuple(placed[dst])) for dst in destinations]
            plan = plan_evacuation(weighed)
            if (where := next(p["destination"] for p in plan if p["guest"] == guest["name"])) is not None:
                placed[where].append(guest["name"])
        for name, why in unfound.items():
            weighed += [
                {
                    **guest_record(name, src, dst, [], [f"{src}: {name}: {why}"], judging.verdicts[(src, dst)]),
                    "memory_bytes": 0,
                    "free_memory_bytes": None,
                }
                for dst in destinations
            ]
    entries = [{key: value for key, value in entry.items() if key not in WEIGHED} for entry in weighed]
    return entries, plan_evacuation(weighed), unknown
