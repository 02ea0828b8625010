"""Finding the checks (built-in, entry points, drop-in directory) and running them over a pair.
A check that raises becomes an ERROR finding; a check whose facts are missing becomes SKIP."""

from __future__ import annotations

import importlib
import importlib.util
import time
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from migdoctor.checkapi import Check, Evidence, Outcome, Registry, Skip, Status
from migdoctor.judging.pair import Pair

ENTRY_POINT_GROUP = "migdoctor.checks"
BUILTIN_MODULES = (
    "dns",
    "route",
    "link",
    "listen",
    "config",
    "firewall",
    "xen",
    "compat",
    "probe",
    "migration",
    "tls",
    "trust",
)


# Facts read in one go: when the whole read fails, its gap is the reason each part is missing.
COLLECTED_TOGETHER = {"links": "network", "routes": "network", "route_lookups": "network"}


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


def checks_of(module: Any, origin: str) -> list[Check]:
    registry = getattr(module, "registry", None)
    if not isinstance(registry, Registry):
        raise DiscoveryError(f"{origin}: module has no 'registry = Registry()' of checks")
    return [Check(c.id, c.title, c.severity, c.needs, c.run, origin) for c in registry.checks]


def builtin_checks() -> list[Check]:
    found: list[Check] = []
    for name in BUILTIN_MODULES:
        found += checks_of(importlib.import_module(f"migdoctor.checks.{name}"), "built-in")
    return found


def entry_point_checks() -> list[Check]:
    found: list[Check] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {point.name} ({point.value})"
        try:
            loaded = point.load()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in is reported, not fatal
            raise DiscoveryError(f"{origin}: {type(exc).__name__}: {exc}") from None
        found += loaded.checks if isinstance(loaded, Registry) else checks_of(loaded, origin)
    return found


def directory_checks(directory: str) -> list[Check]:
    """Every *.py in DIRECTORY declaring `registry = Registry()`, loaded by path."""
    root = Path(directory)
    if not root.is_dir():
        raise DiscoveryError(f"{directory}: --checks-dir is not a directory")
    found: list[Check] = []
    for path in sorted(root.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"migdoctor_dropin_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise DiscoveryError(f"{path}: cannot be loaded as a module")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - report the broken file in one line
            raise DiscoveryError(f"{path}: {type(exc).__name__}: {exc}") from None
        found += checks_of(module, f"file {path}")
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


def select(checks: list[Check], only: list[str]) -> list[Check]:
    """--only takes ids or areas (the part before the dot). A name that is neither is a typo: running
    no check would pass for a clean bill of health."""
    if not only:
        return checks
    known = {check.id for check in checks} | {check.area for check in checks}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise DiscoveryError(f"--only {unknown[0]}: no check has that id or area (see `migdoctor checks`)")
    return [check for check in checks if check.id in only or check.area in only]


def missing_fact(pair: Pair, need: str) -> str | None:
    """Why a needed fact ('dst.config.qemu_conf') is absent, or None when it is there."""
    side, *keys = need.split(".")
    facts = pair.src if side == "src" else pair.dst
    label = pair.src_label if side == "src" else pair.dst_label
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


def run_check(check: Check, pair: Pair, ignored: set[str]) -> Finding:
    started = time.perf_counter()
    reasons = [reason for need in check.needs if (reason := missing_fact(pair, need))]
    try:
        outcome = Outcome(Status.SKIP, "; ".join(reasons)) if reasons else check.run(pair)
    except Skip as exc:
        outcome = Outcome(Status.SKIP, str(exc))
    except Exception as exc:  # noqa: BLE001 - a failing check is a finding, and the run goes on
        outcome = Outcome(Status.ERROR, f"check raised {type(exc).__name__}: {exc}")
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
        duration_s=round(time.perf_counter() - started, 6),
    )


def run_checks(checks: list[Check], pair: Pair, ignored: set[str]) -> list[Finding]:
    return [run_check(check, pair, ignored) for check in checks]
