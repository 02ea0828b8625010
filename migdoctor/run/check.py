"""One `migdoctor check` run, whoever asks: the hosts and pairs named (Selection), the inventory
read and each host resolved once (or its saved facts found), everything validated before any host
is contacted, then the facts collected or loaded, every pair judged, and the report document
returned with the lines to say beside it. The caller (the CLI) parses options and writes output."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migdoctor.actions.migration import TrialOptions
from migdoctor.run.request import Request, SavedFacts, Source

__all__ = ["Ask", "Outcome", "RunError", "Selection", "TrialOptions", "run_check"]

Progress = Callable[[dict[str, Any]], None]


class RunError(Exception):
    """The run could not be made: one line naming the host, file or option (exit status 2)."""


@dataclass
class Selection:
    """Which hosts and pairs the command line names."""

    hosts: list[str]
    all: bool = False
    group: str | None = None
    to_each_other: bool = False
    evacuate: bool = False  # `evacuate SRC [DST...]`: no DST is every other host of the group or inventory

    def labels(self, inventory: Any, saved: dict[str, Path] | None) -> list[str]:
        """The hosts, each once: those named, or the group's, or the facts directory's (SAVED),
        or the inventory's."""
        if self.evacuate:
            return self.evacuated(inventory, saved)
        if not self.all:
            return self.hosts if not self.to_each_other else list(dict.fromkeys(self.hosts))
        if self.hosts:
            raise ValueError(f"--all takes no HOST (got {' '.join(self.hosts)}); use --to-each-other HOST... for those")
        if self.group is not None:
            if self.group not in inventory.groups:
                known = ", ".join(sorted(inventory.groups)) or "none"
                raise ValueError(
                    f"--group {self.group}: no such group in {inventory.path or 'the inventory'} (groups: {known})"
                )
            return list(dict.fromkeys(inventory.groups[self.group]))
        return list(saved) if saved is not None else list(inventory.hosts)

    def evacuated(self, inventory: Any, saved: dict[str, Path] | None) -> list[str]:
        """SRC and the DSTs named, or with none every other host of --group, the facts directory or
        the inventory."""
        src, *named = self.hosts
        if named:
            if self.group is not None:
                raise ValueError(
                    f"--group {self.group} chooses the destinations when no DST is named: give one of them"
                )
            return self.hosts
        if self.group is not None:
            pool = Selection([], True, self.group).labels(inventory, saved)
            where = f"group {self.group}"
        else:
            pool = list(saved) if saved is not None else list(inventory.hosts)
            where = "the facts directory" if saved is not None else inventory.path or "the inventory (none given)"
        others = [label for label in dict.fromkeys(pool) if label != src]
        if not others:
            raise ValueError(f"evacuate {src}: no other host in {where} to move its guests to; name DST...")
        return [src, *others]

    def pairs(self, labels: list[str]) -> list[tuple[str, str]]:
        from migdoctor.run.request import each_other, evacuation

        if len(labels) < 2:
            what = "--all" if self.all else "--to-each-other" if self.to_each_other else "check"
            raise ValueError(f"{what}: needs two hosts or more (got {', '.join(labels) or 'none'})")
        return each_other(labels) if self.all or self.to_each_other else evacuation(labels[0], labels[1:])


@dataclass
class Ask:
    """A run as asked: which hosts and pairs, where their facts come from, and the run's options
    by name (run.request.Request's fields: only, ignore, probe, trial, ...). OUTPUTS names the
    files the caller will write for the run's pairs and start, each refused before any host is
    contacted when it would overwrite an input; SHOW_PROGRESS wraps the collection (a live bar)."""

    selection: Selection
    inventory: str | None = None
    facts: tuple[str, str] | None = None  # --facts SRC.json DST.json
    facts_dir: Path | None = None
    become: bool = False
    yes: bool = False  # migrating an existing --domain is confirmed
    options: dict[str, Any] = field(default_factory=dict)
    change_ref: str | None = None  # the change request the report is for (--change-ref)
    outputs: Callable[[list[tuple[str, str]], datetime], list[Path]] = lambda _pairs, _at: []
    show_progress: Callable[[], AbstractContextManager[Progress | None]] = nullcontext

    @property
    def saved(self) -> bool:
        return self.facts is not None or self.facts_dir is not None


@dataclass
class Outcome:
    """The run's report document, and the lines to say on stderr whatever went to stdout: pairs
    not judged, hosts not reached, test migrations refused, sources whose guests are unknown."""

    report: dict[str, Any]
    notes: list[str]

    @property
    def exit_status(self) -> int:
        return int(self.report["exit_status"])


def run_check(ask: Ask) -> Outcome:
    """Validate first, act later: the request is built and settled (checks, options, pairs,
    output files) before any host is contacted; then the facts are collected or loaded and every
    pair judged. RunError, one line, for anything that stops the run."""
    with one_line_errors():
        trial = ask.options.get("trial")
        if trial is not None and trial.domain and not ask.yes:
            raise ValueError(f"--domain {trial.domain}: migrating an existing domain needs --yes")
        request = build_request(ask)
        if ask.saved and trial is not None:
            raise ValueError("--test-migration needs the hosts themselves, not saved facts")
        return judged(ask, request)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Every error a run expects (bad input, a host or file that cannot be used) as RunError."""
    from migdoctor.actions.migration import TrialRefused
    from migdoctor.engine import DiscoveryError
    from migdoctor.report.document import ReportError
    from migdoctor.report.output import OutputError
    from migdoctor.transports import TransportError
    from migdoctor.transports.inventory import InventoryError

    try:
        yield
    except (DiscoveryError, InventoryError, OutputError, ReportError, TransportError, TrialRefused, ValueError) as exc:
        raise RunError(str(exc)) from None


def build_request(ask: Ask) -> Request:
    """The run: its hosts reached by their inventory entries, or read from saved facts. A saved
    host keeps its inventory entry's libvirt URIs (the intent names what a source would open)."""
    from migdoctor.run.context import accepted_risks, run_by
    from migdoctor.run.saved import facts_files
    from migdoctor.transports import resolve_host
    from migdoctor.transports.inventory import load_inventory

    if ask.facts is not None and ask.facts_dir is not None:
        raise ValueError("--facts and --facts-dir: give one of them")
    inventory = load_inventory(ask.inventory)
    files = facts_files(ask.facts_dir) if ask.facts_dir is not None else {}
    labels = ask.selection.labels(inventory, files if ask.facts_dir is not None else None)
    if ask.facts is not None:
        if len(labels) != 2 or ask.selection.all or ask.selection.to_each_other:
            raise ValueError("--facts SRC.json DST.json judges one pair: name SRC and DST")
        files = dict(zip(labels, map(Path, ask.facts), strict=True))
    pairs = ask.selection.pairs(labels)
    if ask.options.get("guests") is not None and (ask.selection.all or ask.selection.to_each_other):
        raise ValueError("--guests and --guest judge the guests of one source: name SRC DST..., not --all")
    reasons = accepted_risks(ask.options.get("ignore"))
    options = {
        **ask.options,
        "probe": ask.options.get("probe", True) and not ask.saved,
        "ignore": list(reasons),
        "reasons": reasons,
        "run_by": run_by(ask.change_ref),
    }
    if not ask.saved:
        hosts: list[Source] = [resolve_host(label, inventory, ask.become) for label in dict.fromkeys(labels)]
        return Request(hosts, pairs, inventory, **options)

    def saved_host(label: str) -> SavedFacts:
        entry = inventory.hosts.get(label, {})
        path = files.get(label, (ask.facts_dir or Path()) / f"{label}.json")
        return SavedFacts(label, path, entry.get("libvirt_uri"), entry.get("peer_libvirt_uri"))

    return Request([saved_host(label) for label in dict.fromkeys(labels)], pairs, inventory, **options)


def judged(ask: Ask, request: Request) -> Outcome:
    """The request settled, then its facts collected (or loaded) and judged; the run's duration
    counts from here, the inventory already read."""
    from migdoctor.report.output import real_target
    from migdoctor.run.collect import collect
    from migdoctor.run.judge import judge
    from migdoctor.run.request import prepare
    from migdoctor.run.saved import load_saved
    from migdoctor.run.trial import refusal_note

    started, started_at = time.monotonic(), datetime.now(UTC)
    outputs = ask.outputs(request.pairs, started_at)  # named before prepare() drops a pair
    prepare(request)
    inputs = [str(host.path) for host in request.hosts if isinstance(host, SavedFacts)] + [request.inventory.path]
    for path in outputs:
        real_target(path, [given for given in inputs if given])
    if ask.saved:
        sides = dict(zip([host.label for host in request.hosts], ("source", "destination"), strict=False))
        gathered = load_saved(request, sides if ask.facts else None)
        if ask.facts:  # the two files named are the run: one that is not facts is its error
            for side in gathered.hosts.values():
                if side.error:
                    raise ValueError(side.error)
    else:
        with ask.show_progress() as progress:
            request.progress = progress
            gathered = collect(request)
    report = judge(request, gathered, started, started_at)
    notes = list(request.dropped)
    notes += [host["error"] for host in report["hosts"].values() if not host["reached"]]
    notes += report.get("guests_unknown", [])
    for pair in report["pairs"] if request.trial else []:
        if refused := (pair["migration_trial"] or {}).get("refused"):
            notes.append(refusal_note(pair["source"], pair["destination"], refused))
    return Outcome(report, notes)
