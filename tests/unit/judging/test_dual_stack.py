"""IPv6 and dual stack in the judging helpers: a migration network of one prefix per family, the
address QEMU connects to first, and endpoints of one family, on facts captured in the lab's
ipv6, ipv6-literal and dual-stack-wrong-first scenarios."""

import pytest

from migdoctor.judging.endpoints import migration_endpoints
from migdoctor.judging.pair import Intent, MigrationNetwork, Pair
from migdoctor.judging.path import describe_path, predict_path

V4, V6 = "198.51.100.0/24", "2001:db8:0:100::/64"


def pair_of(facts, network):
    return Pair(
        "hosta", "hostb", facts["source"], facts["destination"], Intent(MigrationNetwork.parse(network), "test", False)
    )


def test_a_prefix_per_family_holds_addresses_of_either_family():
    network = MigrationNetwork.parse(f"{V4}, 2001:db8:0:100::7/64")

    assert str(network) == f"{V4}, {V6}"
    assert "198.51.100.2" in network and "2001:db8:0:100::2" in network
    assert "192.0.2.2" not in network and "2001:db8:0:2::2" not in network and "hostb" not in network
    assert str(network.of_family(6)) == V6 and MigrationNetwork.parse(V4).of_family(6) is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (f"{V4},192.0.2.0/24", f"migration network '{V4},192.0.2.0/24': at most one prefix per address family"),
        ("2001:db8::/129", "migration network '2001:db8::/129' is not an IPv4 or IPv6 prefix (CIDR)"),
        (" , ", "migration network ' , ' names no prefix"),
    ],
)
def test_bad_migration_networks_are_named(text, error):
    with pytest.raises(ValueError) as raised:
        MigrationNetwork.parse(text)

    assert str(raised.value) == error


def test_ipv6_only_path_brackets_the_address_before_the_ports(captured):
    pair = pair_of(captured("ipv6"), V6)

    path = predict_path(pair)

    assert (path["address"], path["source_link"], path["destination_link"]) == ("2001:db8:0:100::2", "a-fast", "b-fast")
    assert path["on_migration_network"] is True
    assert describe_path(pair, path) == (
        "hosta a-fast 2001:db8:0:100::1 (1000 Mb/s) -> hostb [2001:db8:0:100::2]:49152-49215 (hostb-fast.lab.test)"
    )


def test_endpoints_follow_the_family_qemu_connects_with(captured):
    """ipv6-literal: both fast links are dual-stack. migration_host is hostb's IPv6 literal, so the
    endpoints judged (routes, firewall) are the IPv6 ones of both hosts, never a mixed pair."""
    facts = captured("ipv6-literal")

    src, dst = migration_endpoints(pair_of(facts, f"{V4},{V6}"))
    facts["destination"]["config"]["qemu_conf"]["values"]["migration_host"] = "198.51.100.2"
    src4, dst4 = migration_endpoints(pair_of(facts, f"{V4},{V6}"))

    assert dst[0] == ("b-fast", "2001:db8:0:100::2") and src == (("a-fast", "2001:db8:0:100::1"),)
    assert dst4[0] == ("b-fast", "198.51.100.2") and src4 == (("a-fast", "198.51.100.1"),)


def test_dual_stack_name_answered_on_the_lan_first(captured):
    """dual-stack-wrong-first: getaddrinfo on hosta sorts hostb-fast's AAAA (on the LAN) before its A."""
    pair = pair_of(captured("dual-stack-wrong-first"), V4)

    path = predict_path(pair)

    assert (path["address"], path["source_link"], path["on_migration_network"]) == ("2001:db8:0:2::2", "a-lan", False)
