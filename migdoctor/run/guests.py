"""Judging the source's guests against each destination, once the pairs are judged (a guest's
verdict is never better than its pair's), planning where each goes, and scheduling the planned
migrations against the maintenance window."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from migdoctor.checkapi import Check
from migdoctor.engine import judge_guest
from migdoctor.judging.convergence import Terms, evacuation, prediction, schedule
from migdoctor.judging.guest import GuestCase
from migdoctor.judging.plan import plan_evacuation
from migdoctor.report.document import finding_record, guest_record
from migdoctor.run.collect import Collected, Measured

WEIGHED = ("memory_bytes", "free_memory_bytes")  # what the plan weighs, not in the report
CONVERGENCE = "guest.convergence"


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
    terms: dict[tuple[str, str], Terms] = field(default_factory=dict)  # what each pair's guests are predicted with


def case_at(
    judging: Judging, guest: dict[str, Any], src: str, dst: str, others: tuple[str, ...], ends_at_s: float | None = None
) -> GuestCase | None:
    """The case GUEST is judged in at DST (None when either host's facts are missing); ENDS_AT_S:
    when the evacuation's schedule ends its migration, once that is known."""
    source, destination = judging.hosts[src].facts, judging.hosts[dst].facts
    if destination is None or source is None:
        return None
    lookups = (judging.measured.get((src, dst), Measured()).guests or {}).get(guest["name"], {})
    terms = judging.terms.get((src, dst))
    if terms is not None and ends_at_s is not None:
        terms = replace(terms, ends_at_s=ends_at_s)
    return GuestCase(guest, source, destination, src, dst, lookups, others, terms)


def judged_at(judging: Judging, guest: dict[str, Any], src: str, dst: str, others: tuple[str, ...]) -> dict[str, Any]:
    """GUEST's report entry at DST, OTHERS already planned there, with its predicted migration when
    the pair has terms; with what the plan weighs (`memory_bytes`, the destination's
    `free_memory_bytes`) beside it."""
    destination = judging.hosts[dst].facts
    case = case_at(judging, guest, src, dst, others)
    if case is None:
        findings, not_checked = [], [judging.hosts[dst].error or f"{dst}: its facts were not collected"]
    else:
        findings = [finding_record(finding) for finding in judge_guest(judging.checks, case, judging.ignored)]
        not_checked = [
            f"{dst}: {gap['fact']} not collected: {gap['reason']}"
            for gap in case.dst.get("missing") or []
            if gap["fact"] == "virt"
        ]
        if not case.lookups:  # saved facts hold none; a live run that made none says why in the findings
            not_checked.append(f"{guest['name']}: its CPU and storage were not looked up from {src} on {dst}")
    entry = guest_record(guest["name"], src, dst, findings, not_checked, judging.verdicts[(src, dst)])
    if (terms := judging.terms.get((src, dst))) is not None:
        entry["prediction"] = prediction(guest, terms.bandwidth, terms.parallel)
    free = ((destination or {}).get("virt") or {}).get("free_memory_bytes")
    return {**entry, "memory_bytes": int(guest.get("memory_kib") or 0) * 1024, "free_memory_bytes": free}


def judge_guests(
    judging: Judging, pairs: list[tuple[str, str]], asked: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], dict[str, Any] | None]:
    """Each asked guest of each source, in the source's order, judged at every destination with
    the guests planned there before it (the memory they take), then planned (first fit by memory);
    returns the report's `guests` and `plan`, the lines saying whose guests could not be listed,
    and the `evacuation` when the guests were predicted (schedule)."""
    weighed: list[dict[str, Any]] = []  # the entries with what the plan weighs
    unknown: list[str] = []
    judged: dict[tuple[str, str], tuple[dict[str, Any], str, tuple[str, ...]]] = {}  # (name, dst) -> guest, src, others
    for src in dict.fromkeys(source for source, _ in pairs):
        destinations = [dst for source, dst in pairs if source == src]
        guests, unfound, unlisted = asked_guests(judging.hosts[src], asked)
        if unlisted:
            unknown.append(f"{src}: its running guests are not known: {unlisted}")
        placed: dict[str, list[str]] = {dst: [] for dst in destinations}
        for guest in guests:
            for dst in destinations:
                judged[(guest["name"], dst)] = (guest, src, tuple(placed[dst]))
                weighed.append(judged_at(judging, guest, src, dst, tuple(placed[dst])))
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
    plan = plan_evacuation(weighed)
    return entries, plan, unknown, schedule_evacuation(judging, entries, plan, judged)


def schedule_evacuation(
    judging: Judging,
    entries: list[dict[str, Any]],
    plan: list[dict[str, Any]],
    judged: dict[tuple[str, str], tuple[dict[str, Any], str, tuple[str, ...]]],
) -> dict[str, Any] | None:
    """The planned guests' predicted migrations in the plan's order, --parallel at a time, against
    --window (the report's `evacuation`, None when nothing was predicted); each planned entry gets
    when its migration ends, and one that ends after the window has guest.convergence judged again
    knowing it. A guest placed nowhere because it converges nowhere makes the evacuation miss; one
    predicted nowhere leaves its total unknown."""
    if not judging.terms:
        return None
    terms = next(iter(judging.terms.values()))
    by_place = {(entry["name"], entry["destination"]): entry for entry in entries if "prediction" in entry}
    planned = [by_place[key] for item in plan if (key := (item["guest"], item["destination"])) in by_place]
    unplaced = [  # a guest placed nowhere: it makes the evacuation miss when it converges nowhere
        (
            item["guest"],
            {"converges": False} if converges_nowhere(by_place, item["guest"]) else {"reason": "not placed"},
        )
        for item in plan
        if item["destination"] is None
        and (converges_nowhere(by_place, item["guest"]) or predicted_nowhere(by_place, item["guest"]))
    ]
    found = evacuation(
        [(entry["name"], entry["prediction"]) for entry in planned] + unplaced, terms.parallel, terms.window_s
    )
    ends = schedule(
        [(entry["name"], entry["prediction"]["total_s"]) for entry in planned if entry["prediction"].get("converges")],
        terms.parallel,
    )
    for entry in planned:
        if entry["name"] not in ends:
            continue
        entry["prediction"]["ends_at_s"] = round(ends[entry["name"]], 3)
        if terms.window_s is not None and ends[entry["name"]] > terms.window_s:
            guest, src, others = judged[(entry["name"], entry["destination"])]
            case = case_at(judging, guest, src, entry["destination"], others, ends[entry["name"]])
            if case is not None:
                rejudge_convergence(judging, case, entry)
    return found


def converges_nowhere(by_place: dict[tuple[str, str], dict[str, Any]], name: str) -> bool:
    """Whether some destination predicted guest NAME not to converge (a placed-nowhere guest's cause)."""
    return any(entry["prediction"].get("converges") is False for (guest, _), entry in by_place.items() if guest == name)


def predicted_nowhere(by_place: dict[tuple[str, str], dict[str, Any]], name: str) -> bool:
    """Whether guest NAME could be predicted at no destination: the evacuation's total is then unknown."""
    return all("converges" not in entry["prediction"] for (guest, _), entry in by_place.items() if guest == name)


def rejudge_convergence(judging: Judging, case: GuestCase, entry: dict[str, Any]) -> None:
    """ENTRY's guest.convergence judged again in CASE (which knows when the schedule ends it), and
    its verdict with it."""
    chosen = [check for check in judging.checks if check.id == CONVERGENCE]
    again = {finding.id: finding_record(finding) for finding in judge_guest(chosen, case, judging.ignored)}
    findings = [again.get(finding["id"], finding) for finding in entry["findings"]]
    entry.update(
        guest_record(
            entry["name"], entry["source"], entry["destination"], findings, entry["not_checked"], entry["pair_verdict"]
        )
    )
