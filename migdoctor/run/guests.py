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


def asked_guests(src: Collected, asked: tuple[str, ...]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The source's guests entries to judge, and each guest asked for that has none, with why:
    its facts' `missing` entry (`guests.NAME`, or the whole `guests` part), or the source unreached."""
    facts = src.facts
    if facts is None:
        return [], dict.fromkeys(asked, src.error or "the source's facts were not collected")
    entries = list(facts.get("guests") or [])
    gaps = {gap["fact"]: gap["reason"] for gap in facts.get("missing") or []}
    found = {entry["name"] for entry in entries}
    if "guests" not in facts:
        why = gaps.get("guests", "the facts hold no guests (collected without --guests?)")
        return [], dict.fromkeys(asked, why)
    unfound = {name: gaps.get(f"guests.{name}", "not running on the source") for name in asked if name not in found}
    return entries, unfound


def judge_guests(
    checks: list[Check],
    ignored: set[str],
    pairs: Iterable[tuple[str, str]],
    hosts: dict[str, Collected],
    measured: dict[tuple[str, str], Measured],
    verdicts: dict[tuple[str, str], str],
    asked: tuple[str, ...],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every asked guest of each pair's source judged at its destination (the report's `guests`),
    in the source's order, then the plan over them."""
    entries: list[dict[str, Any]] = []
    memory: dict[str, int] = {}
    for src, dst in pairs:
        guests, unfound = asked_guests(hosts[src], asked)
        source, destination = hosts[src].facts, hosts[dst].facts
        for guest in guests:
            memory[guest["name"]] = int(guest.get("memory_kib") or 0)
            if destination is None:
                findings, not_checked = [], [hosts[dst].error or f"{dst}: its facts were not collected"]
            else:
                assert source is not None  # it has guests
                lookups = (measured.get((src, dst), Measured()).guests or {}).get(guest["name"], {})
                case = GuestCase(guest, source, destination, src, dst, lookups)
                findings = [finding_record(finding) for finding in judge_guest(checks, case, ignored)]
                not_checked = [
                    f"{dst}: {gap['fact']} not collected: {gap['reason']}"
                    for gap in destination["missing"]
                    if gap["fact"] == "virt"
                ]
            entries.append(guest_record(guest["name"], src, dst, findings, not_checked, verdicts[(src, dst)]))
        entries += [
            guest_record(name, src, dst, [], [f"{src}: {name}: {why}"], verdicts[(src, dst)])
            for name, why in unfound.items()
        ]
    free = {label: ((side.facts or {}).get("virt") or {}).get("free_memory_bytes") for label, side in hosts.items()}
    sized = [
        entry
        | {"memory_bytes": memory.get(entry["name"], 0) * 1024, "free_memory_bytes": free.get(entry["destination"])}
        for entry in entries
    ]
    return entries, plan_evacuation(sized)
