"""Judging saved facts: no host is contacted. A facts directory holds one file per host,
HOST.json, each exactly what `migdoctor facts HOST --json` prints (the label is the file's name
without .json); a report made with --include-facts serves too. A file that is not a facts
record is that host's one line, and its pairs are not checked.

The second round (look-ups of each peer's advertised names and migration addresses, made on the
other host) is in a file only when its collector made it (the migdoctor.fleet playbook does, as
planned here): what a file holds is used, and a check that needs a look-up the file lacks SKIPs
naming it (`collect with --resolve NAME`); each such host says so once in not_checked."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from migdoctor.frozen import collector_paused
from migdoctor.report.document import facts_digest
from migdoctor.run.collect import Collected, Gathered
from migdoctor.run.lookups import absent_lookups, plan_lookups, planned_lookups
from migdoctor.run.request import Request, Sameness, SavedFacts, Source, one_host_once
from migdoctor.transports import Lookups

# Saved records further apart than this come from different collections: the older one is named.
STALE_AFTER = timedelta(hours=1)


def report_facts(document: dict[str, Any], label: str, side: str | None) -> dict[str, Any] | None:
    """LABEL's facts in a report made with --include-facts (schema 1 keeps them by side: the
    side LABEL was on, else SIDE)."""
    facts, hosts = document.get("facts") or {}, document.get("hosts") or {}
    if not isinstance(facts, dict) or not isinstance(hosts, dict):
        return None
    if "pairs" in document:
        return facts.get(label)
    found = next((key for key, host in hosts.items() if isinstance(host, dict) and host.get("label") == label), side)
    return facts.get(found) if found else None


def read_facts(path: Path, label: str, side: str | None = None) -> dict[str, Any]:
    """A facts record, or LABEL's facts in a report made with --include-facts; ValueError naming
    the file otherwise."""
    from migdoctor.bounded import parse_json, read_input
    from migdoctor.schemas import facts_problem

    try:
        document = parse_json(read_input(path))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read facts: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    except ValueError as exc:  # not a regular file, not UTF-8 text, endless, or nested without end
        raise ValueError(f"{path}: {exc}") from None
    if isinstance(document, dict) and ("findings" in document or "pairs" in document):
        document = report_facts(document, label, side)
        if document is None:
            raise ValueError(f"{path}: report holds no facts of {label} (make it with --include-facts)")
    problem = facts_problem(document)
    if problem:
        raise ValueError(f"{path}: {problem}")
    return document


def facts_files(directory: Path) -> dict[str, Path]:
    """The hosts of a facts directory by label, in name order."""
    if not directory.is_dir():
        raise ValueError(f"{directory}: --facts-dir is not a directory")
    return {path.stem: path for path in sorted(directory.glob("*.json"))}


@collector_paused()
def load_saved(request: Request, sides: dict[str, str] | None = None) -> Gathered:
    """Every host's saved facts (its Host's target is the file; a bad file is its host's error;
    one record under two names judged as one host, run.request.one_host_once), the
    intents, and per pair the note that saved facts lack look-ups aimed at the peer. SIDES:
    which side of a schema 1 report each label takes (`--facts SRC.json DST.json`)."""
    hosts: dict[str, Collected] = {}
    for host in (host for host in request.hosts if isinstance(host, SavedFacts)):
        try:
            hosts[host.label] = Collected(read_facts(host.path, host.label, (sides or {}).get(host.label)))
        except ValueError as exc:
            hosts[host.label] = Collected(None, str(exc))
    one_host_once(request, same_record(hosts))
    hosts = {host.label: hosts[host.label] for host in request.hosts}
    reached = {label: side.facts for label, side in hosts.items() if side.facts is not None}
    intents, planned = planned_lookups(request, reached)
    lacking = {
        label: wanted(absent_lookups(reached[label], lookups)) for label, lookups in plan_lookups(planned).items()
    }
    older = stale(reached)
    notes: dict[tuple[str, str], tuple[str, ...]] = {}
    for (src, dst), (for_source, for_destination) in planned.items():
        needed = ((src, for_source), (dst, for_destination))
        notes[(src, dst)] = tuple(
            f"{label}: its saved facts lack look-ups aimed at its peers; checks that need them SKIP "
            f"(save it with `migdoctor facts {label} --json --resolve NAME --route-to IP --reverse IP` for each peer, "
            "or with the migdoctor.fleet.gather_facts playbook, judged with its inventory)"
            for label, lookups in needed
            if lacking[label] & wanted(lookups)
        ) + tuple(older[label] for label in (src, dst) if label in older)
    return Gathered(hosts, intents, notes=notes)


def same_record(hosts: dict[str, Collected]) -> Sameness:
    """Saved facts of one host under two names: the same record (by its digest). Only records of
    one host and one moment are digested: a fleet's 200 records compare two strings each."""
    records = {label: side.facts for label, side in hosts.items() if side.facts is not None}
    moments = {label: (facts["collected_at"], facts["identity"]["hostname"]) for label, facts in records.items()}
    shared = {moment for moment, count in Counter(moments.values()).items() if count > 1}

    def key(host: Source) -> Hashable | None:
        moment = moments.get(host.label)
        return None if moment is None else (moment, facts_digest(records[host.label]) if moment in shared else None)

    return Sameness(key, lambda first, second: f"one facts record ({moments[first.label][1]}) for both")


def stale(facts: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Why a saved record may no longer be true, by label: collected more than STALE_AFTER before
    the newest of the run (a file left from an earlier playbook run, a host since changed)."""
    collected = {label: collected_at(record) for label, record in facts.items()}
    newest = max(collected.values(), default=None)
    return {
        label: f"{label}: its saved facts were collected {at.isoformat(timespec='seconds')}, "
        f"{age_text(newest - at)} before the newest ({newest.isoformat(timespec='seconds')}): what changed on it "
        f"since is not judged (save them again: `migdoctor facts {label} --json`, or the playbook)"
        for label, at in collected.items()
        if newest is not None and newest - at > STALE_AFTER
    }


def collected_at(record: dict[str, Any]) -> datetime:
    """When RECORD was collected (the schema's date-time has an offset; one without is taken as UTC)."""
    at = datetime.fromisoformat(record["collected_at"])
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def age_text(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.0f} days"


def wanted(lookups: Lookups) -> set[tuple[str, str]]:
    """Each look-up as (kind, name or address)."""
    return {(kind, item) for kind in ("route_to", "resolve", "reverse") for item in getattr(lookups, kind)}
