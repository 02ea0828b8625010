"""`migdoctor facts` against the lab's real daemons (scenario seed): over SSH from the inventory,
inside a lab host (`lab:HOST`), and run on the host itself; every record valid and true to the lab."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from migdoctor.schemas import schema_errors

pytestmark = pytest.mark.lab

MIGDOCTOR = str(Path(sys.prefix) / "bin" / "migdoctor")
MIGRATION_PORTS = [49152, 49215]


@pytest.fixture
def seed(lab_scenario):
    return lab_scenario("seed")


def facts(*args: str, check: bool = True) -> dict[str, Any]:
    """The facts record `migdoctor facts ... --json` prints, valid against the schema."""
    done = subprocess.run([MIGDOCTOR, "facts", *args, "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert schema_errors("facts", record) == []
    return record


def link(record: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [item for item in record["links"] if item["name"] == name]
    return found


def ipv4(item: dict[str, Any]) -> list[str]:
    return [f"{a['address']}/{a['prefixlen']}" for a in item["addresses"] if a["family"] == "inet"]


def lookup(record: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [item for item in record["resolution"]["lookups"] if item["name"] == name]
    return found


def migration_rules(record: dict[str, Any]) -> list[dict[str, Any]]:
    """nft rules matching `tcp dport 49152-49215`, from the record's `nft -j` ruleset."""
    (nft,) = [source for source in record["firewall"]["sources"] if source["kind"] == "nftables"]
    rules = [item["rule"] for item in nft["ruleset"]["nftables"] if "rule" in item]
    return [
        rule
        for rule in rules
        for expr in rule["expr"]
        if expr.get("match", {}).get("left") == {"payload": {"protocol": "tcp", "field": "dport"}}
        and expr["match"]["right"] == {"range": MIGRATION_PORTS}
    ]


def stable(record: dict[str, Any]) -> dict[str, Any]:
    """What must not depend on how the host was reached (counters and timings do)."""
    libvirt = {k: v for k, v in record["identity"]["hypervisor"]["libvirt"].items() if k != "uri"}
    return {
        "identity": {**record["identity"], "hypervisor": {**record["identity"]["hypervisor"], "libvirt": libvirt}},
        "links": [(item["name"], item["mtu"], item["state"], ipv4(item), item["qdisc"]) for item in record["links"]],
        "routes": record["routes"],
        "listeners": [(item["address"], item["port"], item["process"]["name"]) for item in record["listeners"]],
        "config": {k: v for k, v in record["config"].items() if k != "daemons"},
        "firewall": migration_rules(record),
        "sysctl": record["sysctl"],
        "missing": record["missing"],
    }


def test_hostb_facts_are_the_same_over_ssh_inside_the_host_and_run_there(seed):
    over_ssh = facts("hostb")
    in_lab_host = facts("lab:hostb")
    on_host = json.loads(seed.run("hostb", MIGDOCTOR, "facts", "--json").stdout)
    assert schema_errors("facts", on_host) == []
    assert stable(over_ssh) == stable(in_lab_host) == stable(on_host)
    assert over_ssh["missing"] == []


def test_hostb_facts_hold_the_real_links_daemons_and_configs(seed):
    record = facts("hostb")
    identity = record["identity"]
    assert identity["hostname"] == identity["fqdn"] == "hostb.lab.test"
    hypervisor = identity["hypervisor"]
    assert hypervisor["kinds"] == ["kvm"] and hypervisor["xen_configs"] == []
    assert hypervisor["libvirt"]["hostname"] == "hostb.lab.test"
    for key in ("version", "hypervisor_version"):  # libvirt's and QEMU's, as dotted numbers
        assert all(part.isdigit() for part in hypervisor["libvirt"][key].split(".")), hypervisor["libvirt"]

    fast, lan = link(record, "b-fast"), link(record, "b-lan")
    assert ipv4(fast) == ["198.51.100.2/24"] and ipv4(lan) == ["192.0.2.2/24"]
    assert fast["state"] == "UP" and fast["admin_up"] and fast["kind"] == "veth" and fast["mtu"] == 1500
    assert lan["qdisc"] == {"kind": "tbf", "rate_bps": 100_000_000}
    assert fast["qdisc"] == {"kind": "tbf", "rate_bps": 1_000_000_000}

    libvirt_tcp = [item for item in record["listeners"] if item["port"] == 16509]
    assert {item["address"] for item in libvirt_tcp} == {"0.0.0.0", "::"}
    assert {item["process"]["name"] for item in libvirt_tcp} == {"libvirtd"}

    # every table that can drop: nftables, and iptables-nft and iptables-legacy as installed here
    sources = {(source["command"], source["kind"]) for source in record["firewall"]["sources"]}
    assert {("nft -j list ruleset", "nftables"), ("iptables-legacy-save", "iptables-legacy")} <= sources
    assert record["firewall"]["unread"] == []
    (rule,) = migration_rules(record)
    assert {"accept": None} in rule["expr"]
    assert {"match": {"left": {"meta": {"key": "iifname"}}, "op": "==", "right": {"set": ["b-lan", "b-fast"]}}} in (
        rule["expr"]
    )

    config = record["config"]
    qemu = config["qemu_conf"]
    assert qemu["path"] == "/etc/libvirt/qemu.conf" and qemu["present"]
    assert qemu["values"]["migration_port_min"] == 49152 and qemu["values"]["migration_port_max"] == 49215
    assert "migration_host" not in qemu["values"]  # the forum thread's hosts
    assert config["libvirtd_conf"]["values"]["listen_tcp"] == 1
    assert config["xend_config"] == {"path": "/etc/xen/xend-config.sxp", "present": False, "values": {}}
    assert any(d["name"] == "libvirtd" and "--listen" in d["argv"] for d in config["daemons"])


def test_route_from_hosta_to_the_fast_address_leaves_by_a_fast(seed):
    record = facts("hosta", "--route-to", "198.51.100.2", "--route-to", "192.0.2.2")
    routes = {item["destination"]: item for item in record["route_lookups"]}
    assert routes["198.51.100.2"]["interface"] == "a-fast"
    assert routes["198.51.100.2"]["source"] == "198.51.100.1"
    assert routes["198.51.100.2"]["gateway"] is None and routes["198.51.100.2"]["error"] is None
    assert routes["192.0.2.2"]["interface"] == "a-lan"


def test_hostb_hostname_resolves_to_its_lan_address_on_hosta_in_seed(seed):
    """The forum thread's cause, as hosta sees it: the name hostb advertises is its LAN address,
    both through getaddrinfo (what QEMU uses) and straight from the lab's DNS server."""
    record = facts("hosta", "--resolve", "hostb.lab.test", "--reverse", "192.0.2.2")
    answer = lookup(record, "hostb.lab.test")
    assert answer["getaddrinfo"]["addresses"] == ["192.0.2.2"]
    assert answer["getaddrinfo"]["error"] is None
    assert answer["dns"] == {"addresses": ["192.0.2.2"], "error": None, "server": "203.0.113.53"}
    assert answer["hosts_file"] == []  # DNS alone decides here
    assert record["resolution"]["resolv_conf"]["nameservers"] == ["203.0.113.53"]
    assert record["resolution"]["reverse_lookups"] == [
        {"address": "192.0.2.2", "names": ["hostb.lab.test"], "error": None}
    ]


def test_a_name_that_does_not_exist_is_nxdomain_not_a_failure_to_answer(seed):
    """NXDOMAIN (the server answered: no such name) is told apart from a server that does not
    answer (timeout, EAI_AGAIN -3): the admin fixes them differently."""
    record = facts("lab:hosta", "--resolve", "nosuchhost.lab.test")
    answer = lookup(record, "nosuchhost.lab.test")
    assert answer["dns"] == {"addresses": [], "error": "nxdomain", "server": None}
    assert answer["getaddrinfo"]["addresses"] == []
    assert answer["getaddrinfo"]["error_code"] == -2  # EAI_NONAME: a definite "no such name"
    assert record["missing"] == []


DROP_DNS_ANSWERS = """
table inet mdtest {
    chain input {
        type filter hook input priority -10; policy accept;
        ip saddr 203.0.113.53 meta l4proto { udp, tcp } th sport 53 drop
    }
}
"""


def test_a_dns_server_that_does_not_answer_is_a_timeout_not_nxdomain(seed, tmp_path):
    """The queries leave hosta, the answers are dropped: silence, as behind a broken firewall.
    (A PTR look-up: one dnspython query, so the timeout costs 3 s, not getaddrinfo's retries.)"""
    ruleset = tmp_path / "drop-dns-answers.nft"  # the lab hosts share this filesystem
    ruleset.write_text(DROP_DNS_ANSWERS)
    seed.run("hosta", "nft", "-f", str(ruleset))
    try:
        record = facts("lab:hosta", "--reverse", "192.0.2.2")
    finally:
        seed.run("hosta", "nft", "delete", "table", "inet", "mdtest")
    assert record["resolution"]["reverse_lookups"] == [{"address": "192.0.2.2", "names": [], "error": "timeout"}]
    answered = facts("lab:hosta", "--reverse", "192.0.2.99")  # answers again: no PTR for an unused address
    assert answered["resolution"]["reverse_lookups"] == [{"address": "192.0.2.99", "names": [], "error": "nxdomain"}]
