"""Judging every ordered pair and assembling the run's one report. A fleet's pairs are judged in
forked workers (migdoctor.sandbox), one per core, each taking its share of the pairs; a pair
whose worker is lost (a check stuck or ending its process) is judged again check by check, so
the check to blame is named as in a one-pair run."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from migdoctor.checkapi import Check
from migdoctor.engine import CHECK_BUDGET_S, NO_SOURCE, Finding, finding_from, lane, pair_checks, run_check, run_checks
from migdoctor.frozen import FrozenDict, collector_paused, freeze
from migdoctor.judging.facts import read_only_memo
from migdoctor.judging.pair import Intent, Pair, TrialTerms
from migdoctor.judging.path import describe_path, intended_links, measured_path, predict_path
from migdoctor.report.document import build_report, finding_record, host_record, pair_record, pair_summary
from migdoctor.report.encoded import Encoded, encode_pair
from migdoctor.run.collect import Collected, Gathered, Measured
from migdoctor.run.intent import trial_terms
from migdoctor.run.request import Request, prepare
from migdoctor.run.trial import refusal_note, untried_relocation
from migdoctor.sandbox import Lost, interrupts_held, isolated

RESULTS_EVERY_S = 0.05  # how often a judging worker hands over the pairs it judged
RunChecks = Callable[[list[Check], Pair, set[str]], list[Finding]]


@dataclass(frozen=True)
class PairJob:
    """One ordered pair and all it is judged from."""

    src_label: str
    dst_label: str
    src: Collected
    dst: Collected
    intent: Intent
    measured: Measured
    notes: tuple[str, ...] = ()  # what the pair's facts could not hold (saved facts: look-ups)
    terms: TrialTerms = TrialTerms()


def in_this_process(checks: list[Check], pair: Pair, ignored: set[str], known: Sequence[Finding] = ()) -> list[Finding]:
    """The checks run here: used inside a sandbox worker, which is the isolation. A check of the
    destination alone (it sees no source: engine.without_source) runs once per destination. KNOWN:
    findings judged in other workers (drop-ins'), taken as they are."""
    ignoring = frozenset(ignored)
    given = {finding.id: finding for finding in known}
    return [
        given[check.id]
        if check.id in given
        else run_check(check, pair, ignored)
        if check.scope == "pair"
        else destination_finding(pair.dst, check, pair.dst_label, pair.intent, pair.trial_terms, ignoring)
        for check in checks
    ]


@read_only_memo
def destination_finding(
    dst: Any, check: Check, dst_label: str, intent: Intent, terms: TrialTerms, ignored: frozenset[str]
) -> Finding:
    """CHECK's finding for the destination DST, whatever the source (a check of scope "destination")."""
    return run_check(check, Pair("the source", dst_label, NO_SOURCE, dst, intent, trial_terms=terms), set(ignored))


def pair_of(job: PairJob) -> Pair | None:
    """The pair the checks judge, when both sides' facts were collected."""
    if job.src.facts is None or job.dst.facts is None:
        return None
    src = job.src.facts
    if job.measured.peer_connection is not None:  # the source's fact, for this destination only
        src = FrozenDict({**src, "peer_connection": freeze(job.measured.peer_connection)})
    measured = job.measured
    return Pair(job.src_label, job.dst_label, src, job.dst.facts, job.intent, measured.probe, measured.trial, job.terms)


def judge_pair(checks: list[Check], ignored: set[str], run: RunChecks, job: PairJob) -> dict[str, Any]:
    """The report's entry for one pair."""
    not_checked = [side.error for side in (job.src, job.dst) if side.error]
    refused = (job.measured.trial or {}).get("refused")  # the trial could not run: exit status 2, as for one pair
    findings: list[dict[str, Any]] = []
    path = intended = measured = None
    pair = pair_of(job)
    if pair is not None:
        findings = [finding_record(finding) for finding in run(checks, pair, ignored)]
        path = predict_path(pair)
        path["text"] = describe_path(pair, path)
        intended, measured = intended_links(pair), measured_path(pair)
        for label, facts in ((job.src_label, pair.src), (job.dst_label, pair.dst)):
            not_checked += [f"{label}: {gap['fact']} not collected: {gap['reason']}" for gap in facts["missing"]]
        not_checked += untried_relocation(job.dst_label, pair.dst)
        not_checked += job.notes
        if refused:
            not_checked.append(refusal_note(job.src_label, job.dst_label, refused))
    else:
        not_checked.append(f"no check ran: {len(checks)} checks need facts from both hosts")
    return pair_record(
        source=job.src_label,
        destination=job.dst_label,
        intent=job.intent,
        path=path,
        intended_links=intended,
        measured_path=measured,
        findings=findings,
        not_checked=not_checked,
        trial=job.measured.trial,
        could_not_run=job.src.facts is None or job.dst.facts is None or refused is not None,
    )


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def encoded_pair(checks: list[Check], ignored: set[str], run: RunChecks, job: PairJob) -> tuple[bytes, dict[str, Any]]:
    """The pair's entry as JSON bytes, and its summary for the run's totals and matrix."""
    entry = judge_pair(checks, ignored, run, job)
    return encode_pair(entry), pair_summary(entry)


def lane_findings(run: RunChecks, checks: list[Check], ignored: set[str], job: PairJob) -> list[Finding]:
    pair = pair_of(job)
    return [] if pair is None else run(checks, pair, ignored)


def in_workers(chunks: list[list[Callable[[], Any]]]) -> list[Any]:
    """Each chunk's tasks in a sandbox worker of its own, all at once; the results in order."""
    stop = threading.Event()  # Ctrl-C reaches this thread only: the others end their workers on it
    with ThreadPoolExecutor(max(1, len(chunks))) as pool:
        try:
            with interrupts_held():  # every thread started, so leaving the pool waits for each
                judged = [pool.submit(isolated, chunk, CHECK_BUDGET_S, stop, RESULTS_EVERY_S) for chunk in chunks]
            return [result for chunk in judged for result in chunk.result()]
        finally:
            stop.set()


def dropin_findings(checks: list[Check], ignored: set[str], jobs: list[PairJob]) -> list[list[Finding]]:
    """Each pair's findings of the drop-in checks, each file's judged in a worker of its own over
    every pair (engine.run_checks says why); a pair whose worker was lost is judged again check by
    check, so the check to blame is named."""
    lanes: dict[str, list[Check]] = {}
    for check in checks:
        if lane(check):
            lanes.setdefault(lane(check), []).append(check)
    results = in_workers(
        [[partial(lane_findings, in_this_process, members, ignored, job) for job in jobs] for members in lanes.values()]
    )
    found: list[list[Finding]] = [[] for _ in jobs]
    for number, members in enumerate(lanes.values()):
        for index, job in enumerate(jobs):
            result = results[number * len(jobs) + index]
            if pair_of(job) is None:
                continue
            if isinstance(result, Lost) or not isinstance(result, list) or len(result) != len(members):
                result = lane_findings(run_checks, members, ignored, job)
            found[index] += [
                finding_from(check, each, ignored, CHECK_BUDGET_S) for check, each in zip(members, result, strict=True)
            ]
    return found


def judge_pairs(checks: list[Check], ignored: set[str], jobs: list[PairJob]) -> Sequence[dict[str, Any]]:
    """Every pair's entry, in order. One pair runs each check in its own sandboxed task; many
    pairs run a pair per task, in a worker per core, and come back encoded (report.encoded)."""
    if len(jobs) <= 1:
        return [judge_pair(checks, ignored, run_checks, job) for job in jobs]
    import multiprocessing.popen_fork  # noqa: F401 - imported here, not by a thread while the other forks

    known = dropin_findings(checks, ignored, jobs)
    tasks: list[Callable[[], Any]] = [
        partial(encoded_pair, checks, ignored, partial(in_this_process, known=given), job)
        for job, given in zip(jobs, known, strict=True)
    ]
    share = -(-len(tasks) // workers())
    results = in_workers([tasks[start : start + share] for start in range(0, len(tasks), share)])
    encoded = [
        encoded_pair(checks, ignored, run_checks, job) if isinstance(result, Lost) else result
        for job, result in zip(jobs, results, strict=True)
    ]
    return Encoded([item for item, _ in encoded], summaries=[summary for _, summary in encoded])


def frozen_sides(hosts: dict[str, Collected]) -> dict[str, Collected]:
    """Each host's facts made read-only once, shared by all its pairs."""
    return {label: Collected(freeze(side.facts), side.error) for label, side in hosts.items()}


@collector_paused()
def judge(request: Request, gathered: Gathered, started: float, started_at: datetime) -> dict[str, Any]:
    """Run the selected checks over every pair; the report document is assembled in report/.
    GATHERED's facts are made read-only in place (a fleet's facts are held once, not twice)."""
    if request.checks is None:
        prepare(request)
    hosts = {
        host.label: host_record(
            host.label, host.spec, gathered.hosts[host.label].facts, gathered.hosts[host.label].error
        )
        for host in request.hosts
    }
    gathered.hosts = frozen = frozen_sides(gathered.hosts)
    terms = trial_terms(request)
    jobs = [
        PairJob(
            src,
            dst,
            frozen[src],
            frozen[dst],
            gathered.intents[dst],
            gathered.measured.get((src, dst), Measured()),
            gathered.notes.get((src, dst), ()),
            terms,
        )
        for src, dst in request.pairs
    ]
    checks = request.checks or []
    pairs = judge_pairs(pair_checks(checks), set(request.ignore), jobs)
    guests = plan = evacuation = None
    unknown: list[str] = []
    if request.guests is not None:
        from migdoctor.judging.convergence import terms_of
        from migdoctor.run.guests import Judging, judge_guests

        summaries = getattr(pairs, "summaries", None) or [pair_summary(pair) for pair in pairs]
        verdicts = {(pair["source"], pair["destination"]): pair["cell"]["verdict"] for pair in summaries}
        predicted = {
            (job.src_label, job.dst_label): terms_of(pair, request.parallel, request.window_s)
            for job in jobs
            if (pair := pair_of(job)) is not None
        }
        judging = Judging(checks, set(request.ignore), frozen, gathered.measured, verdicts, predicted)
        guests, plan, unknown, evacuation = judge_guests(judging, request.pairs, request.guests)
    facts = {label: side.facts for label, side in frozen.items()} if request.include_facts else None
    return build_report(
        run_id=request.run_id,
        started=started,
        started_at=started_at,
        hosts=hosts,
        pairs=pairs,
        facts=facts,
        run_by=request.run_by,
        accepted=[{"id": name, "reason": request.reasons.get(name)} for name in request.ignore],
        guests=guests,
        plan=plan,
        evacuation=evacuation,
        guests_unknown=unknown,
    )
