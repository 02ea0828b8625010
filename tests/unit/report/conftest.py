"""Reports judged from the facts captured in the two-hypervisor lab (tests/data/facts)."""

import copy
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from migdoctor.judging.pair import Intent, MigrationNetwork
from migdoctor.run.collect import Collected, Gathered
from migdoctor.run.judge import judge
from migdoctor.run.request import Request, SavedFacts
from migdoctor.transports.inventory import Inventory

FACTS_DIR = Path(__file__).resolve().parents[2] / "data" / "facts"


@cache
def load(report: str) -> dict[str, Any]:
    return json.loads((FACTS_DIR / f"{report}-report.json").read_text(encoding="utf-8"))


@pytest.fixture
def captured() -> Callable[[str], dict[str, Any]]:
    """captured("seed") -> the report the lab made, with both hosts' facts; safe to change."""
    return lambda report: copy.deepcopy(load(report))


def judged(
    report: str = "healthy",
    *,
    src: Collected | None = None,
    dst: Collected | None = None,
    intent: Intent | None = None,
    include_facts: bool = False,
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The report `migdoctor check hosta hostb --facts ...` makes of a captured report's facts and
    intent; SRC and DST replace what was collected from hosta and hostb, INTENT the captured one."""
    lab = copy.deepcopy(load(report))
    if intent is None:  # a schema 1 report's intent: the network as text, concurrent migrations
        given = {key: value for key, value in lab["intent"].items() if key != "concurrent_migrations"}
        network = given.pop("migration_network")
        intent = Intent(MigrationNetwork.parse(network) if network else None, **given)
    request = Request.pair(
        SavedFacts("hosta", Path("hosta.json")),
        SavedFacts("hostb", Path("hostb.json"), libvirt_uri=intent.dst_libvirt_uri),
        Inventory(),
        include_facts=include_facts,
        ignore=list(ignore),
    )
    source = src or Collected(lab["facts"]["source"])
    destination = dst or Collected(lab["facts"]["destination"])
    gathered = Gathered({"hosta": source, "hostb": destination}, {"hostb": intent})
    return judge(request, gathered, time.monotonic(), datetime.now(UTC))


@pytest.fixture
def judge_report() -> Callable[..., dict[str, Any]]:
    return judged
