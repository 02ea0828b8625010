"""The firewalls real hypervisors run, as migdoctor's collector read them from the tools
themselves (tests/data/netfilter/real, made by capture-tools.sh; each file says how): every port
of every captured ruleset is judged, none is left "cannot tell" for IPv4, and the migration range
gets the verdict the tool was told to give it."""

import json
from pathlib import Path

import pytest

from migdoctor.netfilter import Packet, evaluate_port_range
from migdoctor.netfilter.host import host_evaluator

REAL = Path(__file__).resolve().parents[2] / "data" / "netfilter" / "real"
CAPTURES = sorted(path.stem for path in REAL.glob("*.json"))
FAST = Packet("198.51.100.1", "198.51.100.2", "b-fast", 0)
LAN = Packet("192.0.2.1", "192.0.2.2", "b-lan", 0)
# the migration range on b-fast as each capture was set up: (first, last, verdict) runs
MIGRATION = {
    "docker": [(49152, 49215, "accept")],
    "firewalld-internal": [(49152, 49215, "reject")],
    "firewalld-public": [(49152, 49215, "accept")],
    "firewalld-runtime-only": [(49152, 49215, "accept")],
    "iptables-legacy": [(49152, 49183, "accept"), (49184, 49215, "drop")],
    "libvirt-nat": [(49152, 49215, "accept")],
    "ufw": [(49152, 49215, "accept")],
    "ufw-partial": [(49152, 49183, "accept"), (49184, 49215, "drop")],
}


def firewall(name):
    return json.loads((REAL / f"{name}.json").read_text())["firewall"]


def test_every_capture_says_where_it_came_from():
    assert sorted(MIGRATION) == CAPTURES
    for name in CAPTURES:
        capture = json.loads((REAL / f"{name}.json").read_text())
        assert capture["scenario"] == name and len(capture["captured"]) > 60
        assert {source["command"] for source in capture["firewall"]["sources"]} >= {"nft -j list ruleset"}


@pytest.mark.parametrize("name", CAPTURES)
def test_the_migration_range_gets_the_verdict_the_tool_was_told(name):
    runs = evaluate_port_range(host_evaluator(firewall(name)), FAST, 49152, 49215)

    assert [(first, last, decision.verdict) for first, last, decision in runs] == MIGRATION[name]


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("template", [FAST, LAN], ids=["b-fast", "b-lan"])
def test_no_port_is_left_cannot_tell(name, template):
    runs = evaluate_port_range(host_evaluator(firewall(name)), template, 1, 65535)

    assert [(first, last, d.rule, d.reason) for first, last, d in runs if d.verdict == "unknown"] == []
    assert {d.verdict for _, _, d in runs} <= {"accept", "drop", "reject"}


@pytest.mark.parametrize("name", ["ufw", "ufw-partial", "docker", "libvirt-nat"])
def test_iptables_nft_tables_are_read_from_iptables_nft_save(name):
    """Their nft JSON holds xt matches nft cannot show; the rules decide as iptables-nft-save shows them."""
    decision = host_evaluator(firewall(name))(Packet("192.0.2.1", "192.0.2.2", "b-lan", 16509))

    assert decision.verdict == "accept"
    assert decision.rule.startswith("ip filter ") and " -A " in decision.rule
    assert str(decision.base) == "iptables filter INPUT"


def test_firewalld_reject_names_the_zone_chain():
    decision = host_evaluator(firewall("firewalld-internal"))(FAST)

    assert (decision.verdict, str(decision.base)) == ("reject", "nft inet firewalld filter_INPUT")
    assert decision.rule.startswith("inet firewalld filter_IN_internal handle ")
    assert decision.rule.endswith(": reject with icmpx admin-prohibited")


def test_ufw_ipv6_rules_are_judged_too():
    runs = evaluate_port_range(
        host_evaluator(firewall("ufw-partial")), Packet("2001:db8::1", "2001:db8::2", "b-fast", 0, "ip6"), 49152, 49215
    )

    assert [(first, last, d.verdict) for first, last, d in runs] == [(49152, 49183, "accept"), (49184, 49215, "drop")]
    assert str(runs[0][2].base) == "ip6tables filter INPUT"
