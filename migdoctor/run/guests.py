"""Judging the source's guests against each destination, once the pairs are judged (a guest's
verdict is never better than its pair's), and planning where each goes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from migdoctor.checkapi import Check
from migdoctor.engine import judge_guest
from migdoctor.judging.convergence import Terms, evacuation, prediction, schedule
from migdoctor.judging.guest import GuestCase
from migdoctor.judging.plan import plan_evacuation
from migdoctor.report.document import finding_record, guest_record
from migdoctor.run.collect import Collected, Measured

CONVERGENCE = "guest.convergence"


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
    terms: dict[tuple[str, str], Terms] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    """Every asked guest of each pair's source judged at its destination (the report's `guests`,
    each with its predicted migration when TERMS has its pair), in the source's order; the plan
    over them; the evacuation's predicted schedule against the window, whose late guests have their
    guest.convergence judged again with their place in it."""
    terms = terms or {}
    entries: list[dict[str, Any]] = []
    cases: dict[tuple[str, str], tuple[GuestCase, dict[str, Any]]] = {}
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
                case = GuestCase(guest, source, destination, src, dst, lookups, convergence=terms.get((src, dst)))
                findings = [finding_record(finding) for finding in judge_guest(checks, case, ignored)]
                not_checked = [
                    f"{dst}: {gap['fact']} not collected: {gap['reason']}"
                    for gap in destination["missing"]
                    if gap["fact"] == "virt"
                ]
            entry = guest_record(guest["name"], src, dst, findings, not_checked, verdicts[(src, dst)])
            if (src, dst) in terms:
                pair_terms = terms[(src, dst)]
                entry["prediction"] = prediction(guest, pair_terms.bandwidth, pair_terms.parallel)
                if destination is not None:
                    cases[(guest["name"], dst)] = (case, entry)
            entries.append(entry)
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
    plan = plan_evacuation(sized)
    if not terms:
        return entries, plan, None
    parallel, window_s = next(iter(terms.values())).parallel, next(iter(terms.values())).window_s
    planned = [
        cases[(item["guest"], item["destination"])] for item in plan if (item["guest"], item["destination"]) in cases
    ]
    stuck = [  # placed nowhere because it converges nowhere: it makes the evacuation miss any window
        (item["guest"], {"converges": False})
        for item in plan
        if item["destination"] is None
        and any(
            entry["prediction"].get("converges") is False
            for (name, _), (_, entry) in cases.items()
            if name == item["guest"]
        )
    ]
    found = evacuation([(case.name, entry["prediction"]) for case, entry in planned] + stuck, parallel, window_s)
    ends = schedule(
        [
            (case.name, entry["prediction"]["total_s"])
            for case, entry in planned
            if entry["prediction"].get("converges")
        ],
        parallel,
    )
    for case, entry in planned:
        if case.name in ends:
            entry["prediction"]["ends_at_s"] = round(ends[case.name], 3)
    late = [(case, entry) for case, entry in planned if window_s is not None and ends.get(case.name, 0) > window_s]
    for case, entry in late:
        rejudge_convergence(checks, ignored, case, entry, ends[case.name])
    return entries, plan, found


def rejudge_convergence(
    checks: list[Check], ignored: set[str], case: GuestCase, entry: dict[str, Any], ends_at_s: float
) -> None:
    """ENTRY's guest.convergence judged again knowing when the schedule ends its migration, and its
    verdict with it."""
    assert case.convergence is not None
    placed = replace(case, convergence=replace(case.convergence, ends_at_s=ends_at_s))
    chosen = [check for check in checks if check.id == CONVERGENCE]
    again = {finding.id: finding_record(finding) for finding in judge_guest(chosen, placed, ignored)}
    findings = [again.get(finding["id"], finding) for finding in entry["findings"]]
    entry.update(
        guest_record(
            entry["name"], entry["source"], entry["destination"], findings, entry["not_checked"], entry["pair_verdict"]
        )
    )
