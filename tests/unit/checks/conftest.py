"""Pairs built from the facts captured in the two-hypervisor lab (tests/data/facts), changed the way
real hosts differ, so every check is judged on the cases the lab cannot make as well.

`make_pair(report, src=..., dst=...)` deep-copies the captured facts of hosta (source) and hostb
(destination), hands each side to its mutation, and builds the Pair with the lab's intent.
`judge(check_id, pair)` runs one check through the engine, as `migdoctor check` does, so a missing
fact becomes SKIP with its reason and a raising check becomes ERROR.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from migdoctor.engine import Finding, discover, run_check
from migdoctor.facts import SCHEMA_VERSION
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair, TrialTerms
from migdoctor.netfilter.host import upgraded

FACTS_DIR = Path(__file__).resolve().parents[2] / "data" / "facts"
MIGRATION_NETWORK = "198.51.100.0/24"
LAB_URI = "qemu+ssh://root@hostb/system?command=/run/migdoctor-lab/ssh"
CHECKS = {check.id: check for check in discover()}

Facts = dict[str, Any]
Mutation = Callable[[Facts], object]


@cache
def captured(report: str) -> dict[str, Facts]:
    """{"source": hosta's facts, "destination": hostb's} of a report made with --include-facts."""
    return json.loads((FACTS_DIR / f"{report}-report.json").read_text(encoding="utf-8"))["facts"]


def build_pair(
    report: str = "healthy",
    *,
    src: Mutation | None = None,
    dst: Mutation | None = None,
    network: str | None = MIGRATION_NETWORK,
    min_link_speed_mbps: int | None = None,
    dst_libvirt_uri: str | None = LAB_URI,
    probe: dict[str, Any] | None = None,
    trial: dict[str, Any] | None = None,
    min_rate_mbps: float | None = None,
    min_rate_fraction: float = 0.5,
) -> Pair:
    facts = copy.deepcopy(captured(report))
    for record in facts.values():  # captured with facts schema 1: judged in this schema's form
        record["schema_version"] = SCHEMA_VERSION
        record["firewall"] = record["firewall"] and upgraded(record["firewall"])
    for side, mutate in (("source", src), ("destination", dst)):
        if mutate is not None:
            mutate(facts[side])
    intent = Intent(
        MigrationNetwork.parse(network) if network else None,
        "test",
        False,
        min_link_speed_mbps=min_link_speed_mbps,
        dst_libvirt_uri=dst_libvirt_uri,
    )
    terms = TrialTerms(min_rate_mbps=min_rate_mbps, min_rate_fraction=min_rate_fraction)
    return Pair("hosta", "hostb", facts["source"], facts["destination"], intent, probe, trial, terms)


def judge_check(check_id: str, pair: Pair) -> Finding:
    return run_check(CHECKS[check_id], pair, set())


@pytest.fixture
def make_pair() -> Callable[..., Pair]:
    return build_pair


@pytest.fixture
def judge() -> Callable[[str, Pair], Finding]:
    return judge_check
