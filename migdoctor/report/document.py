"""The report as one JSON document: built from findings, validated against its schema, and
written atomically so a change request never gets half a report."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migdoctor import __version__
from migdoctor.report.encoded import Encoded
from migdoctor.report.json_writer import json_chunks
from migdoctor.report.output import OutputError
from migdoctor.report.output import write_atomically as write_file
from migdoctor.report.totals import STATUSES, totals
from migdoctor.schemas import schema_errors

REPORT_SCHEMA_VERSION = "3"  # 1: one pair per report; 2: no incomplete verdict (schemas/report-N.schema.json)
EXIT_PASSED, EXIT_FAILED, EXIT_COULD_NOT_RUN, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_MEANINGS = {
    EXIT_PASSED: "passed",
    EXIT_FAILED: "failed",
    EXIT_COULD_NOT_RUN: "could not run",
    EXIT_INCOMPLETE: "incomplete",
}
PRECEDENCE = (EXIT_FAILED, EXIT_COULD_NOT_RUN, EXIT_INCOMPLETE, EXIT_PASSED)  # which status a run of pairs takes
# The findings that verify each part of the predicted path, asked in this order for why it is unknown.
PATH_CHECKS = {
    "address": ("dns.migration-host-resolves", "dns.migration-host-address"),
    "route": ("route.egress-interface",),
}


class ReportError(Exception):
    """A report that does not match its schema, or cannot be written; one line."""


def facts_digest(facts: dict[str, Any] | None) -> str | None:
    """A stable fingerprint of the facts judged, so a report can be tied to saved facts."""
    return None if facts is None else joined_digest(members(facts))


# peer_connection: an active step's record (its timing, libvirt's log stamps); its verdict is a finding.
VOLATILE_FACTS = ("collected_at", "collection_seconds", "peer_connection")
VOLATILE_LINK_FACTS = ("rx_bytes", "tx_bytes")


def stable_digest(facts: dict[str, Any] | None) -> str | None:
    """facts_digest without what changes by itself from one collection to the next, so two
    reports can say whether anything on a host really changed."""
    return None if facts is None else digests(facts)[1]


def digests(facts: dict[str, Any]) -> tuple[str, str]:
    """(facts_digest, stable_digest). Each part is written once for both (a fleet's records are
    large); the whole is hashed exactly as json.dumps(facts, sort_keys=True, separators=(",", ":"))
    writes it."""
    parts = members(facts)
    settled = {key: part for key, part in parts.items() if key not in VOLATILE_FACTS}
    links = [
        {key: value for key, value in link.items() if key not in VOLATILE_LINK_FACTS}
        for link in facts.get("links") or []
    ]
    settled["links"] = f"{sorted_json('links')}:{sorted_json(links)}"
    return joined_digest(parts), joined_digest(settled)


def members(facts: dict[str, Any]) -> dict[str, str]:
    """Each member of FACTS as sorted, compact JSON writes it ('"key":value'), by key."""
    return {key: f"{sorted_json(key)}:{sorted_json(value)}" for key, value in facts.items()}


def sorted_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def joined_digest(parts: dict[str, str]) -> str:
    """The sha256 of the JSON object whose members, written already, are PARTS' values."""
    text = "{" + ",".join(parts[key] for key in sorted(parts)) + "}"
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def identity_summary(facts: dict[str, Any] | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    identity = facts["identity"]
    libvirt = identity["hypervisor"].get("libvirt") or {}
    return {
        "hostname": identity["hostname"],
        "fqdn": identity["fqdn"],
        "os": (identity.get("os") or {}).get("PRETTY_NAME"),
        "kernel": identity["kernel"],
        "kinds": identity["hypervisor"]["kinds"],
        "libvirt_version": libvirt.get("version"),
        "qemu_version": libvirt.get("hypervisor_version"),
    }


def exit_status(findings: list[dict[str, Any]], could_not_run: bool, unverified: Sequence[str] = ()) -> int:
    """1: a check failed or errored (not ignored); else 2: a host could not be reached or the test
    migration could not run; else 3: the path could not be verified (incomplete); else 0."""
    if any(f["status"] in ("fail", "error") and not f["ignored"] for f in findings):
        return EXIT_FAILED
    if could_not_run:
        return EXIT_COULD_NOT_RUN
    return EXIT_INCOMPLETE if unverified else EXIT_PASSED


def run_exit_status(statuses: Iterable[int]) -> int:
    """A run's exit status from its pairs': 1 if any failed, else 2 if any could not run, else 3 if
    any is incomplete, else 0; a run without pairs could not run."""
    present = set(statuses)
    return next((status for status in PRECEDENCE if status in present), EXIT_COULD_NOT_RUN)


def unverified(
    source: str,
    destination: str,
    network: str | None,
    decided_by: str,
    path: dict[str, Any] | None,
    findings: list[dict[str, Any]],
) -> list[str]:
    """What of the predicted path could not be determined, each with the finding that could not
    verify it: a path drawn as `? ? -> unresolved` is not a pass. Decided from the judged pair
    alone (its path and findings), so saved facts and a saved report judge the same."""
    if path is None:  # no facts: "not checked" says why
        return []
    unsure = {f["id"]: f for f in findings if f["status"] != "pass"}

    def why(part: str) -> str:
        found = next((unsure[check] for check in PATH_CHECKS.get(part, ()) if check in unsure), None)
        return f" ({found['id']} {found['status']}: {found['summary']})" if found else ""

    missing = []
    if network is None:
        missing.append(f"the migration network ({decided_by})")
    if path["address"] is None:
        missing.append(f"the address of {path['name']} on {source}{why('address')}")
    else:
        if path["source_link"] is None:
            missing.append(f"the link {source}'s route to {path['address']} leaves by{why('route')}")
        if path["destination_link"] is None:
            missing.append(f"the link of {destination} that holds {path['address']}")
    return missing


def host_record(label: str, spec: str, facts: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """A host of the report; SPEC is how it was reached (its own spec: `local`, `ssh:kvm1`, `file:kvm1.json`)."""
    whole, stable = digests(facts) if facts is not None else (None, None)
    return {
        "label": label,
        "transport": spec,
        "reached": facts is not None,
        "error": error,
        "identity": identity_summary(facts),
        "facts_digest": whole,
        "facts_stable_digest": stable,
    }


def pair_record(
    *,
    source: str,
    destination: str,
    intent: Any,
    path: dict[str, Any] | None,
    intended_links: dict[str, Any] | None,
    measured_path: list[dict[str, Any]] | None,
    findings: list[dict[str, Any]],
    not_checked: list[str],
    trial: dict[str, Any] | None,
    could_not_run: bool,
) -> dict[str, Any]:
    """One ordered pair's part of the report: what a schema 1 report held for its pair, and what of
    its path could not be verified."""
    network = str(intent.migration_network) if intent.migration_network else None
    missing = unverified(source, destination, network, intent.decided_by, path, findings)
    record: dict[str, Any] = {
        "source": source,
        "destination": destination,
        "intent": {
            "migration_network": network,
            "inferred": intent.inferred,
            "decided_by": intent.decided_by,
            "min_link_speed_mbps": intent.min_link_speed_mbps,
            "dst_libvirt_uri": intent.dst_libvirt_uri,
        },
        "path": path,
        "findings": findings,
        "totals": totals(findings),
        "not_checked": not_checked,
        "unverified": missing,
        "exit_status": exit_status(findings, could_not_run, missing),
        "migration_trial": trial,
        "measured_path": measured_path,
    }
    if intended_links is not None:
        record["intended_links"] = intended_links
    return record


def verdict(pair: dict[str, Any]) -> str:
    """The matrix cell: the worst status not accepted as a risk, or why the pair was not judged;
    a failure outranks "not checked" (a pair judged whose test migration was refused), which
    outranks "incomplete" (its path could not be verified)."""
    counted = pair["totals"]
    if counted["fail"] or counted["error"]:
        return "fail"
    if pair["exit_status"] == EXIT_COULD_NOT_RUN:
        return "not checked"
    if pair["exit_status"] == EXIT_INCOMPLETE:
        return "incomplete"
    return "warn" if counted["warn"] else "pass"


def cell(pair: dict[str, Any]) -> dict[str, Any]:
    """The matrix's cell of a pair: its verdict and the predicted link (the source's link the
    stream leaves by, the destination's it arrives on, and whether that is the migration network)."""
    path = pair["path"] or {}
    return {
        "verdict": verdict(pair),
        "source_link": path.get("source_link"),
        "destination_link": path.get("destination_link"),
        "on_migration_network": path.get("on_migration_network"),
    }


def pair_summary(pair: dict[str, Any]) -> dict[str, Any]:
    """What the run's totals and matrix take from a pair: made in the worker that judged a fleet's
    pair, so its JSON is not decoded again for them."""
    return {
        "source": pair["source"],
        "destination": pair["destination"],
        "totals": pair["totals"],
        "not_checked": pair["not_checked"],
        "exit_status": pair["exit_status"],
        "cell": cell(pair),
    }


# The verdicts of a pair or a guest, best first: a guest's is the worse of its own and its pair's.
VERDICT_RANK = ("pass", "warn", "incomplete", "not checked", "fail")
VERDICT_EXIT = {"fail": EXIT_FAILED, "not checked": EXIT_COULD_NOT_RUN, "incomplete": EXIT_INCOMPLETE}
MOVABLE = ("pass", "warn")  # a guest goes only where its verdict is one of these


def guest_verdict(findings: list[dict[str, Any]], not_checked: list[str], pair_verdict: str) -> str:
    """A guest's verdict at a destination: its own (a check failed or raised; no check ran: not
    checked; judged without part of what it needs, NOT_CHECKED naming it: incomplete, never a pass;
    a warning) or its pair's, whichever is worse: a guest whose path fails or is unverified cannot go."""
    counted = totals(findings)
    if counted["fail"] or counted["error"]:
        own = "fail"
    elif not_checked:
        own = "incomplete" if findings else "not checked"
    else:
        own = "warn" if counted["warn"] else "pass"
    return max(own, pair_verdict, key=VERDICT_RANK.index)


def guest_record(
    name: str, source: str, destination: str, findings: list[dict[str, Any]], not_checked: list[str], pair_verdict: str
) -> dict[str, Any]:
    """One guest at one destination: its findings and verdict, in the matrix's words."""
    return {
        "name": name,
        "source": source,
        "destination": destination,
        "verdict": guest_verdict(findings, not_checked, pair_verdict),
        "pair_verdict": pair_verdict,
        "findings": findings,
        "not_checked": not_checked,
    }


def build_report(
    *,
    run_id: str,
    started: float,
    started_at: datetime,
    hosts: dict[str, dict[str, Any]],
    pairs: Sequence[dict[str, Any]],
    facts: dict[str, Any] | None,
    shared: dict[str, list[Any]] | None = None,
    run_by: dict[str, Any] | None = None,
    accepted: list[dict[str, Any]] | None = None,
    guests: list[dict[str, Any]] | None = None,
    plan: list[dict[str, Any]] | None = None,
    evacuation: dict[str, Any] | None = None,
    guests_unknown: Sequence[str] = (),
) -> dict[str, Any]:
    """The report document of a run: what every writer renders and `report diff` compares.
    PAIRS may be encoded (report.encoded) with their summaries beside them, in compact form with
    the SHARED tables they refer to (report.compact). RUN_BY: who ran it,
    where, how (run.context); ACCEPTED: the risks --ignore accepted, each with its reason;
    GUESTS and PLAN when guests were asked for (guest_record's entries, each counted as a pair), and
    the EVACUATION's predicted schedule when they were predicted; GUESTS_UNKNOWN: each source whose
    guests were asked for but could not be listed, with why (a "not checked" line of the run, and
    its exit status 2: nothing was judged of them)."""
    counted, not_checked, statuses = Counter[str](), dict[str, None](), set()
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    summaries = getattr(pairs, "summaries", None) or map(pair_summary, pairs)
    for summary in summaries:
        counted.update(summary["totals"])
        not_checked.update(dict.fromkeys(summary["not_checked"]))
        statuses.add(summary["exit_status"])
        cells.setdefault(summary["source"], {})[summary["destination"]] = summary["cell"]
    report: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool_version": __version__,
        "run_id": run_id,
        "started_at": started_at.isoformat(timespec="seconds"),
        "ended_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 3),
        "hosts": hosts,
        "matrix": cells,
        **({"shared": shared} if shared is not None else {}),
        "pairs": pairs,
        "totals": {key: counted[key] for key in (*STATUSES, "ignored")},
        "not_checked": [*not_checked, *(line for line in guests_unknown if line not in not_checked)],
        "exit_status": run_exit_status(statuses | guest_statuses(guests or [], guests_unknown)),
    }
    if guests is not None:
        report["guests"], report["plan"] = guests, plan or []
        if evacuation is not None:
            report["evacuation"] = evacuation
    if guests_unknown:
        report["guests_unknown"] = list(guests_unknown)
    if run_by is not None:
        report["run_by"] = run_by
    if accepted:
        report["accepted_risks"] = accepted
    if facts is not None:
        report["facts"] = facts
    return report


def guest_statuses(guests: list[dict[str, Any]], unknown: Sequence[str] = ()) -> set[int]:
    """The exit statuses the guests' verdicts count as, each as a pair of that verdict would; a
    source whose guests are UNKNOWN could not be judged (2)."""
    return {VERDICT_EXIT.get(guest["verdict"], EXIT_PASSED) for guest in guests} | (
        {EXIT_COULD_NOT_RUN} if unknown else set()
    )


def finding_record(finding: Any) -> dict[str, Any]:
    """The finding as plain data; its evidence is plain JSON already (the engine's contract)."""
    return {
        "id": finding.id,
        "title": finding.title,
        "area": finding.area,
        "severity": finding.severity,
        "origin": finding.origin,
        "status": str(finding.status),
        "summary": finding.summary,
        "evidence": [
            {"host": item.host, "item": item.item, "actual": item.actual, "expected": item.expected}
            for item in finding.evidence
        ],
        "remediation": finding.remediation,
        "ignored": finding.ignored,
        "duration_s": finding.duration_s,
    }


def schema_of(report: Any) -> str:
    """The schema a report names: schema 1 (one pair each) and 2 (no incomplete verdict) reports
    still validate."""
    version = report.get("schema_version") if isinstance(report, dict) else None
    return f"report-{version}" if version in ("1", "2") else "report"


def validate_report(report: Any) -> None:
    """Against the schema it names, then against itself (inconsistencies); encoded pairs were each
    validated when they were encoded, and the run's parts built from their summaries."""
    encoded = isinstance(report, dict) and isinstance(report.get("pairs"), Encoded)
    if encoded:
        report = {**report, "pairs": []}
    errors = schema_errors(schema_of(report), report)
    if errors:
        raise ReportError(f"report does not match its schema: {first_of(errors)}")
    problems = [] if encoded else inconsistencies(report)
    if problems:
        raise ReportError(f"report contradicts itself: {first_of(problems)}")


def first_of(problems: list[str]) -> str:
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


def inconsistencies(report: dict[str, Any]) -> list[str]:
    """Where a report (valid against its schema) contradicts itself: an exit status its findings do
    not give, totals that are not its pairs', a pair listed twice or naming a host it lacks, a
    matrix cell that is not its pair's. Each one line."""
    version = report["schema_version"]
    if version == "1":
        hosts = report["hosts"]
        return pair_problems(report, hosts["source"], hosts["destination"], version)
    from migdoctor.report.compact import BrokenReference, expanded_pairs

    hosts, matrix = report["hosts"], report["matrix"]
    problems = [f"hosts/{key}: labelled {host['label']}" for key, host in hosts.items() if host["label"] != key]
    seen: set[tuple[str, str]] = set()
    summed, statuses = Counter[str](), []
    pairs = expanded_pairs(report)
    for number in range(len(pairs)):
        try:
            pair = pairs[number]
        except BrokenReference as exc:
            problems.append(str(exc))
            continue
        summed.update(pair["totals"])
        statuses.append(pair["exit_status"])
        src, dst = pair["source"], pair["destination"]
        name = f"pair {src} -> {dst}"
        if (src, dst) in seen:
            problems.append(f"{name}: listed twice")
            continue
        seen.add((src, dst))
        if src not in hosts or dst not in hosts:
            problems.append(f"{name}: {src if src not in hosts else dst} is not one of its hosts")
            continue
        problems += [f"{name}: {problem}" for problem in pair_problems(pair, hosts[src], hosts[dst], version)]
        if matrix.get(src, {}).get(dst) != cell(pair):
            problems.append(f"{name}: its matrix cell is not its verdict and predicted link ({cell(pair)['verdict']})")
    cells = sum(len(row) for row in matrix.values())
    if cells != len(seen):
        problems.append(f"matrix: {cells} cells for {len(seen)} pairs")
    if report["totals"] != {key: summed[key] for key in report["totals"]}:
        problems.append(f"totals {report['totals']} are not the sum of its pairs' {dict(summed)}")
    problems += guest_problems(report, seen)
    counted = set(statuses) | guest_statuses(report.get("guests") or [], report.get("guests_unknown") or ())
    expected = run_exit_status(counted) if version != "2" else max(statuses, default=EXIT_COULD_NOT_RUN)
    if report["exit_status"] != expected:
        problems.append(f"exit status {report['exit_status']}, but its pairs' give {expected}")
    return problems


def guest_problems(report: dict[str, Any], pairs: set[tuple[str, str]]) -> list[str]:
    """Where the guests and the plan contradict the pairs or each other: a guest at a destination
    twice or of no pair, a verdict its findings and its pair's do not give, a plan that places a guest
    where it cannot go, leaves one out, or places it without a reason for not placing it."""
    if "guests_unknown" in report and "guests" not in report:
        return ["guests_unknown without guests"]
    if ("guests" in report) != ("plan" in report):
        return [f"{'guests' if 'guests' in report else 'plan'} without {'plan' if 'guests' in report else 'guests'}"]
    problems, verdicts = [], {}
    for guest in report.get("guests", []):
        key = (guest["name"], guest["source"], guest["destination"])
        name = f"guest {key[0]} {key[1]} -> {key[2]}"
        if key in verdicts:
            problems.append(f"{name}: listed twice")
            continue
        verdicts[key] = guest["verdict"]
        if key[1:] not in pairs:
            problems.append(f"{name}: not one of its pairs")
            continue
        pair_verdict = report["matrix"][key[1]][key[2]]["verdict"]
        if guest["pair_verdict"] != pair_verdict:
            problems.append(f"{name}: its pair_verdict {guest['pair_verdict']} is not its pair's {pair_verdict}")
        expected = guest_verdict(guest["findings"], guest["not_checked"], pair_verdict)
        if guest["verdict"] != expected:
            problems.append(f"{name}: verdict {guest['verdict']}, but its findings and its pair give {expected}")
    placed = [placement["guest"] for placement in report.get("plan", [])]
    named = list(dict.fromkeys(name for name, _, _ in verdicts))
    if sorted(placed) != sorted(named):
        problems.append(
            f"plan: places {', '.join(placed) or 'no guest'}, but the guests are {', '.join(named) or 'none'}"
        )
    for placement in report.get("plan", []):
        where, guest = placement["destination"], placement["guest"]
        if where is None and not placement["reason"]:
            problems.append(f"plan: {guest} goes nowhere without a reason")
        elif where is not None and not any(
            name == guest and dst == where and verdict in MOVABLE for (name, _, dst), verdict in verdicts.items()
        ):
            problems.append(f"plan: {guest} goes to {where}, where its verdict is not pass or warn")
    return problems


def pair_problems(pair: dict[str, Any], src: dict[str, Any], dst: dict[str, Any], version: str) -> list[str]:
    """Where one pair's totals, exit status or unverified path contradict its findings and path."""
    findings, problems = pair["findings"], []
    if pair["totals"] != totals(findings):
        problems.append(f"totals {pair['totals']} do not count its findings {totals(findings)}")
    could_not_run = not (src["reached"] and dst["reached"]) or "refused" in (pair["migration_trial"] or {})
    if version in ("1", "2"):  # could not run outranked a failure then, and no path was incomplete
        expected = EXIT_COULD_NOT_RUN if could_not_run else exit_status(findings, False)
    else:
        intent = pair["intent"]
        missing = unverified(
            src["label"], dst["label"], intent["migration_network"], intent["decided_by"], pair["path"], findings
        )
        if bool(missing) != bool(pair["unverified"]):
            problems.append(
                f"its path leaves unknown {missing[0]}, but unverified is empty"
                if missing
                else "unverified is not empty, but its path is known"
            )
        expected = exit_status(findings, could_not_run, pair["unverified"])
    if pair["exit_status"] != expected:
        problems.append(f"exit status {pair['exit_status']}, but its findings give {expected}")
    return problems


def write_report(report: dict[str, Any], path: Path) -> None:
    """Validate, then write the JSON atomically."""
    validate_report(report)
    write_atomically(path, json_chunks(report))


def write_atomically(path: Path, text: str | Iterable[bytes]) -> None:
    """Any report format, written as migdoctor.report.output writes (through symlinks, never over
    special files, fsynced, no temporary file left): a change request never gets half a report."""
    try:
        write_file(path, text)
    except OutputError as exc:
        raise ReportError(str(exc)) from None
