"""Finding the checks (built-in, entry points, drop-in directory) and running them over a pair,
or over one guest and destination (judge_guest).
Each check's metadata is held to the contract when it is loaded (one error naming its file).
A check whose facts are missing becomes SKIP; one that raises anything, returns something other
than an Outcome, gives evidence that is not JSON, overruns its time budget or ends its process
becomes an ERROR finding naming it, and the run goes on (migdoctor.sandbox)."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import json
import math
import pkgutil
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migdoctor.checkapi import ID_PATTERN, SCOPES, SEVERITIES, Check, Evidence, Outcome, Registry, Skip, Status
from migdoctor.frozen import FrozenDict, freeze
from migdoctor.judging.facts import read_only_memo
from migdoctor.judging.pair import Pair
from migdoctor.sandbox import Lost, isolated

if TYPE_CHECKING:  # guest checks import it themselves; a run without guests does not
    from migdoctor.judging.guest import GuestCase

ENTRY_POINT_GROUP = "migdoctor.checks"
BUILTIN_PACKAGE = "migdoctor.checks"


# Facts read in one go: when the whole read fails, its gap is the reason each part is missing.
COLLECTED_TOGETHER = {"links": "network", "routes": "network", "route_lookups": "network"}
# Parts of a facts record that describe its making, not the host: no check needs them.
RECORD_KEYS = ("schema_version", "tool_version", "collected_at", "collection_seconds", "missing")
# Built-in checks take milliseconds; a check this slow is stuck, and the run must end anyway.
CHECK_BUDGET_S = 10.0
IMPORT_BUDGET_S = 10.0


class DiscoveryError(Exception):
    """A drop-in or entry-point check module that cannot be loaded; one line naming it."""


@dataclass
class Finding:
    id: str
    title: str
    area: str
    severity: str
    origin: str
    status: Status
    summary: str
    evidence: list[Evidence] = field(default_factory=list)
    remediation: str | None = None
    ignored: bool = False
    duration_s: float = 0.0


class ContractError(Exception):
    """What a check returned breaks the check contract (checks/__init__.py)."""


@cache
def fact_roots() -> tuple[str, ...]:
    """The top-level parts of a facts record a check may declare it needs (facts.schema.json)."""
    from migdoctor.schemas import load_schema

    return tuple(key for key in load_schema("facts")["properties"] if key not in RECORD_KEYS)


DOCUMENTATION = ("description", "rationale", "fix")  # what `migdoctor checks` and docs/checks.md show


def text_problem(check: Check, name: str, required: bool) -> str | None:
    """What is wrong with the check's paragraph NAME (one of DOCUMENTATION), or None."""
    value = getattr(check, name)
    if not isinstance(value, str) or (value and not (value.strip() and value.isprintable())):
        return f"{check.id}: {name} must be one paragraph of printable text"
    if required and not value:
        return f"{check.id}: a built-in check needs a {name}"
    return None


@cache
def need_pattern(scope: str) -> re.Pattern[str]:
    """What a need of a check of SCOPE looks like: a host's fact path (`dst.config.qemu_conf`); a
    guest check may also name a key of the guest's entry (`guest.xml`) or of its look-ups (`lookups.cpu`)."""
    guest = r"|(guest|lookups)(\.[a-z0-9_]+)+" if scope == "guest" else ""
    return re.compile(rf"^((src|dst)\.({'|'.join(fact_roots())})(\.[a-z0-9_]+)*{guest})$")


def metadata_problem(check: Any, documented: bool = False) -> str | None:
    """What is wrong with a declared check's metadata, or None: said at load, not in the report.
    DOCUMENTED: the DOCUMENTATION paragraphs are required (built-in checks)."""
    if not isinstance(check, Check):
        return f"{check!r} is not a Check (declare checks with @registry.check)"
    if not isinstance(check.id, str) or not ID_PATTERN.match(check.id):
        return f"check id {check.id!r} is not of the form area.name (lower case, digits, dashes)"
    if not isinstance(check.title, str) or not check.title.strip() or not check.title.isprintable():
        return f"{check.id}: title must be a non-empty line of printable text"
    if check.severity not in SEVERITIES:
        return f"{check.id}: severity {check.severity!r} is not one of {', '.join(SEVERITIES)}"
    if not isinstance(check.needs, tuple | list) or not all(isinstance(n, str) for n in check.needs):
        return f"{check.id}: needs must be a tuple of strings like 'dst.config.qemu_conf'"
    if check.scope not in SCOPES:
        return f"{check.id}: scope {check.scope!r} is not one of {', '.join(SCOPES)}"
    wrong = [need for need in check.needs if not need_pattern(check.scope).match(need)]
    if wrong:
        also = " (or guest.KEY, lookups.KEY)" if check.scope == "guest" else ""
        roots = ", ".join(fact_roots())
        return f"{check.id}: need {wrong[0]!r} is not src.|dst. followed by a part of the facts ({roots}){also}"
    if not callable(check.run):
        return f"{check.id}: the check is not callable"
    if check.scope == "destination" and any(need.startswith("src.") for need in check.needs):
        return f"{check.id}: a check of the destination alone cannot need the source's facts"
    return next(filter(None, (text_problem(check, name, documented) for name in DOCUMENTATION)), None)


def registry_of(module: Any, where: str) -> Registry:
    registry = module if isinstance(module, Registry) else getattr(module, "registry", None)
    if not isinstance(registry, Registry):
        raise DiscoveryError(f"{where}: module has no 'registry = Registry()' of checks")
    return registry


def checks_of(registry: Registry, origin: str, where: str | None = None, documented: bool = False) -> list[Check]:
    """The registry's checks held to the contract; a breach is one line naming WHERE (else ORIGIN)."""
    for declared in registry.checks:
        problem = metadata_problem(declared, documented)
        if problem:
            raise DiscoveryError(f"{where or origin}: {problem}")
    return [dataclasses.replace(c, needs=tuple(c.needs), origin=origin) for c in registry.checks]


class ImportTooLong(Exception):
    """Raised by the alarm into a plug-in whose import overruns IMPORT_BUDGET_S."""


@contextmanager
def alarm(seconds: float, error: Callable[[float], Exception]) -> Iterator[None]:
    """An alarm that interrupts code stuck past SECONDS by raising ERROR(SECONDS) in it (a loop in
    Python code; a single C call cannot be interrupted this way). Signals reach the main thread
    only: elsewhere, no alarm."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def overrun(_signum: int, _frame: Any) -> None:
        raise error(seconds)

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def import_overran(seconds: float) -> ImportTooLong:
    return ImportTooLong(f"still importing after {seconds:g} s")


def load_module(origin: str, load: Any) -> Any:
    """LOAD() under the contract that nothing a plug-in does at import ends or hangs the run: any
    exception, sys.exit() included, is one line naming it, and so is an import that overruns
    IMPORT_BUDGET_S; Ctrl-C still stops."""
    try:
        with alarm(IMPORT_BUDGET_S, import_overran):
            return load()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit at import must not end the run with 0
        raise DiscoveryError(f"{origin}: {type(exc).__name__}: {exc}") from None


def builtin_modules() -> list[tuple[str, str]]:
    """(module name, file) of every module of the checks package, found on disk rather than
    listed, so a new one cannot silently never run; modules named _* are helpers."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    found = []
    for module in pkgutil.iter_modules(package.__path__, f"{BUILTIN_PACKAGE}."):
        short = module.name.rpartition(".")[2]
        if not short.startswith("_"):
            folder = Path(getattr(module.module_finder, "path", ""))
            found.append((module.name, str(folder / short / "__init__.py" if module.ispkg else folder / f"{short}.py")))
    return found


def builtin_checks() -> list[Check]:
    """The checks of every built-in module, placed by their registries' order."""
    registries = [
        (registry_of(load_module(file, partial(importlib.import_module, name)), file), file)
        for name, file in builtin_modules()
    ]
    registries.sort(key=lambda found: found[0].order)
    return [check for registry, file in registries for check in checks_of(registry, "built-in", file, documented=True)]


def entry_point_checks() -> list[Check]:
    found: list[Check] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {point.name} ({point.value})"
        found += checks_of(registry_of(load_module(origin, point.load), origin), origin)
    return found


# What a drop-in declares of each check, handed over from the worker that imported it.
METADATA = ("id", "title", "severity", "needs", "description", "rationale", "fix", "scope")


@dataclass(frozen=True)
class DropIn:
    """A drop-in check's function, imported where it is called: in the worker process that runs
    it, never in the run's own, so nothing the file does at import (exit, print, patch migdoctor)
    reaches the run or another check. DOC is the file's docstring (the catalogue's area summary)."""

    path: str
    check_id: str
    doc: str = ""

    def __call__(self, pair: Pair) -> Any:
        return dropin_functions(self.path)[self.check_id](pair)


@cache
def dropin_functions(path: str) -> dict[str, Any]:
    """The check functions PATH declares, by id: its module imported once in this process."""
    return {check.id: check.run for check in checks_of(registry_of(dropin_module(path), f"file {path}"), "")}


def dropin_module(path: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"migdoctor_dropin_{Path(path).stem}", path)
    if spec is None or spec.loader is None:
        raise DiscoveryError(f"{path}: cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    load_module(path, partial(spec.loader.exec_module, module))
    return module


def declared_in(path: str) -> tuple[list[dict[str, Any]], str] | str:
    """In a worker: the metadata of each check PATH declares and the file's docstring, or why it
    cannot be loaded (one line naming it)."""
    try:
        module = dropin_module(path)
        checks = checks_of(registry_of(module, f"file {path}"), f"file {path}")
    except DiscoveryError as exc:
        return str(exc)
    return [{name: getattr(check, name) for name in METADATA} for check in checks], inspect.getdoc(module) or ""


def directory_checks(directory: str) -> list[Check]:
    """Every *.py in DIRECTORY declaring `registry = Registry()`. Each file is imported in a
    forked worker of its own, which hands back what it declares: one that fails, ends that process
    or overruns the budget at import is one line naming it."""
    root = Path(directory)
    if not root.is_dir():
        raise DiscoveryError(f"{directory}: --checks-dir is not a directory")
    found: list[Check] = []
    for path in map(str, sorted(root.glob("*.py"))):
        (declared,) = isolated([partial(declared_in, path)], IMPORT_BUDGET_S + 1)
        if isinstance(declared, Lost):
            raise DiscoveryError(f"{path}: its import {declared.reason}")
        if isinstance(declared, str):
            raise DiscoveryError(declared)
        origin = f"file {path}"
        try:
            metadata, doc = declared
            checks = [Check(**each, run=DropIn(path, each["id"], doc), origin=origin) for each in metadata]
        except (TypeError, ValueError, KeyError):
            raise DiscoveryError(f"{path}: its import did not hand back its checks") from None
        problem = next(filter(None, map(metadata_problem, checks)), None)
        if problem:
            raise DiscoveryError(f"{origin}: {problem}")
        found += checks
    return found


def discover(checks_dir: str | None = None) -> list[Check]:
    checks = builtin_checks() + entry_point_checks()
    if checks_dir:
        checks += directory_checks(checks_dir)
    seen: dict[str, Check] = {}
    for check in checks:
        if check.id in seen:
            raise DiscoveryError(f"check id {check.id!r} is declared twice: {seen[check.id].origin} and {check.origin}")
        seen[check.id] = check
    return checks


def pair_checks(checks: list[Check]) -> list[Check]:
    """The checks a pair runs: guest checks are judged per guest and destination (judge_guest)."""
    return [check for check in checks if check.scope != "guest"]


def unknown_name(checks: list[Check], names: list[str]) -> str | None:
    """The first of NAMES that is neither a check id nor an area."""
    known = {check.id for check in checks} | {check.area for check in checks}
    return next((name for name in names if name not in known), None)


def select(checks: list[Check], only: list[str] | None) -> list[Check]:
    """--only takes ids or areas (the part before the dot); None is every check. A name that is
    neither is a typo, and no name (an empty CI variable) selects nothing: running no check would
    pass for a clean bill of health."""
    if only is None:
        return checks
    if not only:
        raise DiscoveryError(
            "--only selects no check (an empty value?): name a check id or area (see `migdoctor checks`), "
            "or leave --only out to run every check"
        )
    unknown = unknown_name(checks, only)
    if unknown is not None:  # "" too: a blank name is no check
        raise DiscoveryError(f"--only {unknown}: no check has that id or area (see `migdoctor checks`)")
    return [check for check in checks if check.id in only or check.area in only]


def missing_facts(pair: Pair, needs: tuple[str, ...]) -> list[str]:
    """Why needed facts ('dst.config.qemu_conf') are absent, in the order NEEDS names them."""
    if not needs:
        return []
    src = absent_facts(pair.src, needs, "src", pair.src_label)
    dst = absent_facts(pair.dst, needs, "dst", pair.dst_label)
    return [reason for _, reason in sorted(src + dst)] if src or dst else []


@read_only_memo
def absent_facts(facts: dict[str, Any], needs: tuple[str, ...], side: str, label: str) -> tuple[tuple[int, str], ...]:
    """(place in NEEDS, why) of each need on SIDE that FACTS lack: the same for every pair of a host."""
    absent = []
    for index, need in enumerate(needs):
        need_side, *keys = need.split(".")
        if need_side == side and (reason := absent_fact(facts, keys, label)):
            absent.append((index, reason))
    return tuple(absent)


def absent_fact(facts: dict[str, Any], keys: list[str], label: str) -> str | None:
    value: Any = facts
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is not None:
        return None
    for gap in facts.get("missing", []):
        if gap["fact"] in keys or gap["fact"] == COLLECTED_TOGETHER.get(keys[0]):
            where = f" ({gap['file']})" if gap.get("file") else ""
            return f"{label}: {gap['fact']} not collected: {gap['reason']}{where}"
    return f"{label}: {'.'.join(keys)} not collected"


PLAIN_SCALARS = (str, int, bool, type(None))


def as_json(value: Any, what: str) -> Any:
    """VALUE as plain JSON data (a copy), or ContractError naming WHAT. A plain string, number,
    boolean or null is its own copy (a fleet's million findings are not round-tripped)."""
    if type(value) in PLAIN_SCALARS or (type(value) is float and math.isfinite(value)):
        return value
    if isinstance(value, list | tuple) and all(type(item) in PLAIN_SCALARS for item in value):
        return list(value)  # a list of names, say: copied without the round trip
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ContractError(f"{what} is not JSON: {exc}") from None


def kept_contract(result: Any) -> Outcome:
    """RESULT checked against the contract, its evidence made plain JSON data (RESULT itself when
    it is already: a fleet judges a million findings)."""
    if not isinstance(result, Outcome):
        raise ContractError(f"returned {type(result).__name__}, not an Outcome")
    if not isinstance(result.status, Status):
        raise ContractError(f"status {result.status!r} is not a Status")
    if not isinstance(result.summary, str):
        raise ContractError(f"summary {result.summary!r} is not a string")
    if result.remediation is not None and not isinstance(result.remediation, str):
        raise ContractError(f"remediation {result.remediation!r} is not a string")
    if not isinstance(result.evidence, tuple | list):
        raise ContractError("evidence is not a sequence of Evidence")
    if type(result.evidence) is tuple and all(map(is_plain, result.evidence)):
        return result
    return Outcome(result.status, result.summary, tuple(map(plain_evidence, result.evidence)), result.remediation)


def is_plain(item: Any) -> bool:
    """Whether ITEM is Evidence whose values are plain scalars already (the usual case)."""
    return (
        type(item) is Evidence
        and type(item.host) is str
        and type(item.item) is str
        and type(item.actual) in PLAIN_SCALARS
        and type(item.expected) in PLAIN_SCALARS
    )


def plain_evidence(item: Evidence) -> Evidence:
    """ITEM with its values as plain JSON data; ITEM itself when they are plain scalars already."""
    if not isinstance(item, Evidence):
        raise ContractError("evidence is not a sequence of Evidence")
    if not isinstance(item.host, str) or not isinstance(item.item, str):
        raise ContractError(f"evidence host and item must be strings, not {item.host!r}, {item.item!r}")
    if (
        type(item.host) is str
        and type(item.item) is str
        and type(item.actual) in PLAIN_SCALARS
        and type(item.expected) in PLAIN_SCALARS
    ):
        return item
    what = f"evidence {item.item!r}"
    return Evidence(*(as_json(value, what) for value in (item.host, item.item, item.actual, item.expected)))


# What a check of the destination alone sees of the source: nothing (reading it fails the check).
NO_SOURCE = FrozenDict()


def without_source(pair: Pair) -> Pair:
    """PAIR as a check of scope "destination" sees it: its finding is then the same for every
    source, so a fleet judges it once per destination (run.judge)."""
    return dataclasses.replace(pair, src_label="the source", src=NO_SOURCE, probe=None, trial=None)


def run_check(check: Check, pair: Pair, ignored: set[str]) -> Finding:
    """One check, in this process: nothing it raises escapes but Ctrl-C."""
    started = time.perf_counter()
    if check.scope == "destination":
        pair = without_source(pair)
    return judged(check, pair, missing_facts(pair, check.needs), ignored, started)


def judged(check: Check, subject: Any, reasons: list[str], ignored: set[str], started: float) -> Finding:
    """CHECK's finding over SUBJECT (a pair, a guest case): SKIP naming REASONS (its needed facts
    that are absent), else what it returns held to the contract; nothing it raises escapes but Ctrl-C."""
    try:
        outcome = Outcome(Status.SKIP, "; ".join(reasons)) if reasons else kept_contract(check.run(subject))
    except Skip as exc:
        outcome = Outcome(Status.SKIP, str(exc))
    except ContractError as exc:
        outcome = Outcome(Status.ERROR, f"check broke the contract: {exc}")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit, GeneratorExit too: a check cannot end the run
        outcome = Outcome(Status.ERROR, f"check raised {type(exc).__name__}: {exc}")
    return finding_of(check, outcome, ignored, time.perf_counter() - started)


def finding_of(check: Check, outcome: Outcome, ignored: set[str], duration_s: float) -> Finding:
    return Finding(
        id=check.id,
        title=check.title,
        area=check.area,
        severity=check.severity,
        origin=check.origin,
        status=outcome.status,
        summary=outcome.summary,
        evidence=list(outcome.evidence),
        remediation=outcome.remediation,
        ignored=check.id in ignored or check.area in ignored,
        duration_s=round(duration_s, 6),
    )


def lane(check: Check) -> str:
    """The worker a check runs in: a drop-in file's checks apart from all others ("")."""
    return check.run.path if isinstance(check.run, DropIn) else ""


def finding_from(check: Check, result: Any, ignored: set[str], budget_s: float) -> Finding:
    """CHECK's finding from what its worker handed back: a Lost, or an answer for another check
    (its worker's code patched by a drop-in), is an ERROR naming it."""
    if isinstance(result, Lost):
        return finding_of(check, Outcome(Status.ERROR, f"check {result.reason}"), ignored, budget_s)
    if not isinstance(result, Finding) or result.id != check.id:
        return finding_of(check, Outcome(Status.ERROR, "check's worker answered for another check"), ignored, 0.0)
    return result


def run_checks(checks: list[Check], pair: Pair, ignored: set[str], budget_s: float = CHECK_BUDGET_S) -> list[Finding]:
    """Every check over a read-only view of the pair, in a worker process with a time budget each;
    each drop-in file's checks in a worker of their own."""
    frozen = dataclasses.replace(
        pair, src=freeze(pair.src), dst=freeze(pair.dst), probe=freeze(pair.probe), trial=freeze(pair.trial)
    )
    lanes: dict[str, list[int]] = {}
    for index, check in enumerate(checks):
        lanes.setdefault(lane(check), []).append(index)
    results: dict[int, Any] = {}
    for members in lanes.values():
        tasks = [partial(run_check, checks[index], frozen, ignored) for index in members]
        results.update(zip(members, isolated(tasks, budget_s), strict=True))
    return [finding_from(check, results[index], ignored, budget_s) for index, check in enumerate(checks)]


def missing_case_facts(case: GuestCase, needs: tuple[str, ...]) -> list[str]:
    """Why needed facts are absent from CASE, in the order NEEDS names them: a host's part
    (`dst.virt.free_memory_bytes`: older records have none), a key of the guest's entry
    (`guest.snapshots`) or a look-up (`lookups.cpu`)."""
    reasons = []
    for need in needs:
        root, *keys = need.split(".")
        if root in ("src", "dst"):
            facts, label = (case.src, case.src_label) if root == "src" else (case.dst, case.dst_label)
            reason = absent_fact(facts, keys, label)
        elif root == "guest":
            reason = (
                None
                if present(case.guest, keys)
                else f"{case.src_label}: guest {case.name}'s {'.'.join(keys)} not collected"
            )
        else:
            reason = (
                None
                if present(case.lookups, keys)
                else f"no {'.'.join(keys)} look-up for guest {case.name} from {case.src_label} to {case.dst_label}"
            )
        if reason:
            reasons.append(reason)
    return list(dict.fromkeys(reasons))  # two needs in one absent part: its reason once


def present(value: Any, keys: list[str]) -> bool:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value is not None


def judge_guest(checks: list[Check], case: GuestCase, ignored: set[str]) -> list[Finding]:
    """The findings of CHECKS' guest checks over CASE, in their order, made as a pair's are (a
    missing fact SKIPs naming it, anything a check raises is an ERROR naming it); the case's
    facts are handed over read-only."""
    frozen = dataclasses.replace(
        case, guest=freeze(case.guest), src=freeze(case.src), dst=freeze(case.dst), lookups=freeze(case.lookups)
    )
    return [
        judged(check, frozen, missing_case_facts(frozen, check.needs), ignored, time.perf_counter())
        for check in checks
        if check.scope == "guest"
    ]
