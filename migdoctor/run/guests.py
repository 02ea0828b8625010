"""Judging the source's guests against each destination, once the pairs are judged (a guest's
verdict is never better than its pair's), and planning where each goes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from migdoctor.checkapi import Check
from migdoctor.engine import judge_guest
from migdoctor.judging.guest import GuestCase
from migdoctor.judging.plan import plan_evacuation
from migdoctor.report.document import finding_record, guest_record
from migdoctor.run.collect import Collected, Measured


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


def judge_guests(
    checks: list[Check],
    ignored: set[str],
    pairs: Iterable[tuple[str, str]],
    hosts: dict[str, Collected],
    measured: dict[tuple[str, str], Measured],
    verdicts: dict[tuple[str, str], str],
    asked: tuple[str, ...],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Every asked guest of each pair's source judged at its destination (the report's `guests`),
    in the source's order; the plan over them (first fit by the guests' memory into each
    destination's free memory); the lines saying whose guests could not be listed."""
    entries: list[dict[str, Any]] = []
    notes: dict[str, None] = {}
    sized: list[dict[str, Any]] = []  # each entry with what the plan weighs
    for src, dst in pairs:
        guests, unfound, unlisted = asked_guests(hosts[src], asked)
        if unlisted:
            notes[f"{src}: its running guests are not known: {unlisted}"] = None
        source, destination = hosts[src].facts, hosts[dst].facts
        free = ((destination or {}).get("virt") or {}).get("free_memory_bytes")
        for guest in guests:
            if destination is None:
                findings, not_checked = [], [hosts[dst].error or f"{dst}: its facts were not collected"]
            else:
                assert source is not None  # it has guests
                lookups = (measured.get((src, dst), Measured()).guests or {}).get(guest["name"], {})
                case = GuestCase(guest, source, destination, src, dst, lookups)
                findings = [finding_record(finding) for finding in judge_guest(checks, case, ignored)]
                not_checked = [
                    f"{dst}: {gap['fact']} not collected: {gap['reason']}"
                    for gap in destination.get("missing") or []
                    if gap["fact"] == "virt"
                ]
                if not lookups:  # saved facts hold none; a live run that made none says why in the findings
                    not_checked.append(f"{guest['name']}: its CPU and storage were not looked up from {src} on {dst}")
            entry = guest_record(guest["name"], src, dst, findings, not_checked, verdicts[(src, dst)])
            entries.append(entry)
            sized.append({**entry, "memory_bytes": int(guest.get("memory_kib") or 0) * 1024, "free_memory_bytes": free})
        for name, why in unfound.items():
            entry = guest_record(name, src, dst, [], [f"{src}: {name}: {why}"], verdicts[(src, dst)])
            entries.append(entry)
            sized.append({**entry, "memory_bytes": 0, "free_memory_bytes": free})
    return entries, plan_evacuation(sized), list(notes)
