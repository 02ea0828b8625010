"""Guest cases built from what the lab's libvirt 9.0 answered (tests/unit/fixtures/guests: each file
says where it came from) on top of the bridged lab's captured facts (both hosts have bridge
br-mig), changed the way real hosts and guests differ.

`guest_case(xml=..., guest=..., src=..., dst=..., lookups=..., others=...)`: the guest `db` as
captured on hosta (a raw file disk with cache none, a bridge interface on br-mig, host-model CPU)
going to hostb, its storage proven the same on NFS and its CPU identical, unless changed.
`judge_one(check_id, case)` judges it as a run does (engine.judge_guest)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from migdoctor.engine import Finding, discover, judge_guest
from migdoctor.facts import SCHEMA_VERSION
from migdoctor.judging.guest import GuestCase
from migdoctor.netfilter.host import upgraded

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "guests"
FACTS_DIR = Path(__file__).resolve().parents[2] / "data" / "facts"
GUEST_CHECKS = {check.id: check for check in discover() if check.scope == "guest"}
GiB = 1024**3


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@cache
def lab_records() -> dict[str, Any]:
    return json.loads(fixture("lab-records.json"))


@cache
def bridged_facts() -> dict[str, Any]:
    return json.loads((FACTS_DIR / "bridged-report.json").read_text(encoding="utf-8"))["facts"]


def virt_record() -> dict[str, Any]:
    """The virt part of a host's facts as the lab's libvirt 9.0 answered."""
    virt = copy.deepcopy(lab_records()["virt"])
    virt["capabilities_xml"] = fixture("lab-capabilities.xml")
    virt["domain_capabilities"] = {"kvm": fixture("lab-domcaps-kvm.xml"), "qemu": None}
    return virt


def guest_entry(xml: str = "lab-db.xml", **change: Any) -> dict[str, Any]:
    """The source's `guests` entry for the guest whose domain XML is fixture XML."""
    entry = copy.deepcopy(lab_records()["guest"])
    entry["xml"] = fixture(xml)
    return entry | change


def storage_lookup(**change: Any) -> dict[str, Any]:
    entry = {
        "target": "vda",
        "path": "/var/lib/libvirt/images/db.img",
        "same": True,
        "fstype": "nfs",
        "free_bytes": 10 * GiB,
        "error": None,
    }
    return entry | change


def lookups(**change: Any) -> dict[str, Any]:
    made = {"cpu": {"result": "identical", "message": None, "baseline_xml": None}, "storage": [storage_lookup()]}
    return made | change


Mutation = Callable[[dict[str, Any]], object]


def guest_case(
    xml: str = "lab-db.xml",
    *,
    guest: dict[str, Any] | None = None,
    src: Mutation | None = None,
    dst: Mutation | None = None,
    made: dict[str, Any] | None = None,
    others: tuple[str, ...] = (),
) -> GuestCase:
    facts = copy.deepcopy(bridged_facts())
    entry = guest if guest is not None else guest_entry(xml)
    for record in facts.values():
        record["schema_version"] = SCHEMA_VERSION
        record["firewall"] = record["firewall"] and upgraded(record["firewall"])
        record["virt"] = virt_record()
    facts["source"]["guests"] = [entry]
    for side, mutate in (("source", src), ("destination", dst)):
        if mutate is not None:
            mutate(facts[side])
    return GuestCase(
        entry, facts["source"], facts["destination"], "hosta", "hostb", lookups() if made is None else made, others
    )


def judge_one(check_id: str, case: GuestCase) -> Finding:
    (finding,) = judge_guest([GUEST_CHECKS[check_id]], case, set())
    return finding
