"""Facts enter the pipeline only through a schema check, whichever transport delivered them: a far
host answering with anything else is that host's error (named), never an internal error, and a
far side running another migdoctor version is told apart from garbage."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from migdoctor import __version__
from migdoctor.facts import libvirt
from migdoctor.report.document import EXIT_COULD_NOT_RUN, validate_report
from migdoctor.run.collect import Collected, Gathered, fetch
from migdoctor.run.intent import decide_intent
from migdoctor.run.judge import judge
from migdoctor.run.request import Request
from migdoctor.transports import Host, Lookups, Transport
from migdoctor.transports.inventory import Inventory

FACTS = json.loads((Path(__file__).parents[2] / "data" / "facts" / "seed-report.json").read_text())["facts"]
HOSTB = Host("hostb", "ssh", "root@hostb")


class Answering(Transport):
    """A far side that answers every call with RECORD; libvirt is not asked."""

    def __init__(self, record):
        super().__init__(HOSTB)
        self.record = record

    def far_side_argv(self):
        raise AssertionError("no far side is started in these tests")

    def call(self, name, **arguments):
        return self.record


def answered(monkeypatch, record):
    monkeypatch.setattr(
        libvirt, "libvirt_facts", lambda uri, route=None, guests=None: (None, "not asked in this test", {})
    )
    return Answering(record)


@pytest.mark.parametrize(
    ("record", "lookups_only", "message"),
    [
        (
            {"hello": 1},
            False,
            "hostb: not a migdoctor facts record: (top): 'schema_version' is a required property (and 12 more)",
        ),
        ([1, 2], False, "hostb: not a migdoctor facts record: (top): [1, 2] is not of type 'object'"),
        (None, True, "hostb: not a migdoctor facts record: (top): None is not of type 'object'"),
        ({"route_lookups": [], "missing": []}, True, "hostb: not a migdoctor facts record: (top): 'resolution' is"),
    ],
    ids=["hello", "list", "null-lookups", "lookups-without-resolution"],
)
def test_far_host_answer_that_is_not_facts_is_that_hosts_error(monkeypatch, record, lookups_only, message):
    host = answered(monkeypatch, record)

    collected = fetch(host, Lookups(only=lookups_only))

    assert collected.facts is None and collected.error.startswith(message), collected.error


def test_version_mismatch_between_control_node_and_far_side_is_named(monkeypatch):
    record = copy.deepcopy(FACTS["destination"])
    record["schema_version"], record["tool_version"] = "3", "0.9.0"
    record["links"] = {"renamed": True}
    host = answered(monkeypatch, record)

    collected = fetch(host, Lookups())

    assert collected.error.startswith(
        f"hostb: facts from migdoctor 0.9.0 (facts schema 3), but this control node runs migdoctor {__version__} "
        "(facts schema 2): install the same version on both; first difference: "
    )


def test_valid_facts_are_admitted(monkeypatch):
    host = answered(monkeypatch, copy.deepcopy(FACTS["destination"]))

    collected = fetch(host, Lookups())

    assert collected.error is None and collected.facts["links"] == FACTS["destination"]["links"]


def test_facts_of_schema_1_are_admitted_and_held_to_their_own_schema(monkeypatch):
    """A record saved by the previous release is still judged (what it lacks SKIPs); one that
    says schema 1 but has this schema's firewall part is not a record of either."""
    old = copy.deepcopy(FACTS["destination"])
    assert old["schema_version"] == "1" and "backend" in old["firewall"]
    mixed = {**copy.deepcopy(old), "firewall": {"sources": [], "unread": [], "firewalld": None}}

    assert fetch(answered(monkeypatch, old), Lookups()).error is None
    assert "firewall: 'backend' is a required property" in fetch(answered(monkeypatch, mixed), Lookups()).error


def test_facts_of_this_schema_need_every_firewall_source_named(monkeypatch):
    record = {**copy.deepcopy(FACTS["destination"]), "schema_version": "2"}
    record["firewall"] = {
        "sources": [{"command": "nft -j list ruleset", "kind": "nftables", "ruleset": record["firewall"]["nftables"]}],
        "unread": [{"command": "iptables-legacy-save", "reason": "exited 1: cannot initialize"}],
        "firewalld": None,
    }
    legacy_without_family = {"command": "iptables-legacy-save", "kind": "iptables-legacy", "save": ""}

    assert fetch(answered(monkeypatch, record), Lookups()).error is None
    record["firewall"]["sources"].append(legacy_without_family)
    assert "firewall/sources/1" in fetch(answered(monkeypatch, record), Lookups()).error


def test_rejected_facts_give_a_valid_report_that_exits_2_naming_the_host(monkeypatch):
    host = answered(monkeypatch, {"hello": 1})
    request = Request.pair(Host("hosta", "local"), HOSTB, Inventory(), migration_network="198.51.100.0/24")
    rejected = fetch(host, Lookups())

    sides = {"hosta": Collected(FACTS["source"]), "hostb": rejected}
    report = judge(request, Gathered(sides, {"hostb": decide_intent(request, "hostb", None)}), 0.0, datetime.now(UTC))

    validate_report(report)
    assert report["exit_status"] == EXIT_COULD_NOT_RUN
    assert report["hosts"]["hostb"]["error"].startswith("hostb: not a migdoctor facts record")
