"""The collector against a real kernel: a throwaway network namespace with a shaped veth and a
bridge, read back through `migdoctor facts --json` run inside it (root, Linux)."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from migdoctor.schemas import schema_errors

NAMESPACE = f"mdunit-facts-{os.getpid()}"  # its own: two test runs at once must not share it
SETUP = """
link add m-fast type veth peer name m-peer
addr add 198.51.100.9/24 dev m-fast
link set m-fast mtu 9000 up
link set m-peer mtu 9000 up
link add m-br type bridge
link set m-peer master m-br
link set m-br up
route add 203.0.113.0/24 via 198.51.100.1 dev m-fast
"""


ROUTE_TO = ["198.51.100.7", "203.0.113.5", "192.0.2.1"]


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.fail("needs root to create a network namespace", pytrace=False)
    subprocess.run(["ip", "netns", "del", NAMESPACE], capture_output=True)
    subprocess.run(["ip", "netns", "add", NAMESPACE], check=True)
    try:
        subprocess.run(["ip", "-n", NAMESPACE, "-batch", "-"], input=SETUP, text=True, check=True)
        subprocess.run(
            [
                "tc",
                "-n",
                NAMESPACE,
                "qdisc",
                "add",
                "dev",
                "m-fast",
                "root",
                "tbf",
                "rate",
                "1gbit",
                "burst",
                "256kb",
                "latency",
                "20ms",
            ],
            check=True,
        )
        yield NAMESPACE
    finally:
        subprocess.run(["ip", "netns", "del", NAMESPACE], check=True)


def run_inside(namespace: str, *argv: str) -> dict:
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def facts(namespace: str) -> dict:
    return run_inside(namespace, "-m", "migdoctor", "facts", "--json", *(f"--route-to={to}" for to in ROUTE_TO))


def link(facts: dict, name: str) -> dict:
    return next(item for item in facts["links"] if item["name"] == name)


def test_record_matches_its_schema(facts: dict) -> None:
    assert schema_errors("facts", facts) == []


def test_shaped_veth_has_address_speed_mtu_and_tbf_rate(facts: dict) -> None:
    fast = link(facts, "m-fast")
    assert fast["kind"] == "veth" and fast["mtu"] == 9000 and fast["state"] == "UP"
    assert {"address": "198.51.100.9", "prefixlen": 24, "family": "inet", "scope": 0} in fast["addresses"]
    assert fast["speed_mbps"] == 10000  # what the veth driver reports
    assert fast["qdisc"] == {"kind": "tbf", "rate_bps": 1_000_000_000}


def test_bridge_members_are_named(facts: dict) -> None:
    # This kernel has no bond or vlan drivers; their kinds are covered in test_network_helpers.
    assert link(facts, "m-br")["kind"] == "bridge" and link(facts, "m-br")["members"] == ["m-peer"]
    assert link(facts, "m-peer")["master"] == "m-br"


def test_route_lookups_as_the_kernel_chooses(facts: dict) -> None:
    by_destination = {item["destination"]: item for item in facts["route_lookups"]}
    on_link = by_destination["198.51.100.7"]
    assert (on_link["interface"], on_link["gateway"], on_link["source"]) == ("m-fast", None, "198.51.100.9")
    assert by_destination["203.0.113.5"]["gateway"] == "198.51.100.1"
    assert by_destination["192.0.2.1"]["error"] == "Network is unreachable"


def test_routes_and_sysctls_are_collected(facts: dict) -> None:
    destinations = {route["destination"] for route in facts["routes"]}
    assert {"198.51.100.0/24", "203.0.113.0/24"} <= destinations
    low, high = facts["sysctl"]["ip_local_port_range"]
    assert 0 < low < high <= 65535


def test_a_second_round_makes_the_same_route_look_ups_and_reads_no_links(namespace: str, facts: dict) -> None:
    """A second round reads only what its look-ups need: the links' names, not their speeds and queues."""
    code = f"import json; from migdoctor.facts import collect; print(json.dumps(collect(route_to={ROUTE_TO!r}, lookups_only=True)))"
    second = run_inside(namespace, "-c", code)
    assert set(second) == {"route_lookups", "resolution", "missing"} and second["missing"] == []
    assert second["route_lookups"] == facts["route_lookups"]
