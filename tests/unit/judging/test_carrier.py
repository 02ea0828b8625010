"""The one helper for "the link that carried the bytes" (the port probe, each leg of the test
migration, `watch`): the device whose byte counters moved most between two samples, mapped up its
stack to the addressed link and judged against the migration network. Counted on a bridge port or
a bond member, the bytes still belong to the bridge above it; the captured lab facts and real
/proc/net/bonding captures (tests/data/links) hold the stacks."""

from link_stacks import stacked

from migdoctor.judging.carrier import busiest_link, carrier_label, migration_links, on_migration_network
from migdoctor.judging.pair import MigrationNetwork

NETWORK = MigrationNetwork.parse("198.51.100.0/24")


def counters(**moved: int) -> dict[str, dict[str, int]]:
    return {name: {"rx_bytes": count, "tx_bytes": count} for name, count in moved.items()}


def carrier(facts, before, after, key="tx_bytes"):
    """What the checks say of a stream: the counting device's label and its verdict."""
    device, _ = busiest_link(before, after, key)
    return carrier_label(facts, device, migration_links(facts, NETWORK)), on_migration_network(facts, device, NETWORK)


def test_the_link_whose_counter_moved_most_carried_the_bytes_not_the_busiest_overall() -> None:
    before = counters(**{"a-lan": 9_000_000_000, "a-fast": 1_000, "lo": 0})
    after = counters(**{"a-lan": 9_000_006_000, "a-fast": 68_001_000, "lo": 0})

    assert busiest_link(before, after, "tx_bytes") == ("a-fast", 68_000_000)


def test_loopback_never_carries_a_migration() -> None:
    before = counters(lo=0, **{"a-fast": 0})
    after = counters(lo=500_000_000, **{"a-fast": 4_194_304})

    assert busiest_link(before, after, "rx_bytes") == ("a-fast", 4_194_304)


def test_a_link_that_appeared_between_the_samples_counts_from_zero() -> None:
    assert busiest_link(counters(**{"a-lan": 50}), counters(**{"a-lan": 60, "vnet0": 1_000}), "tx_bytes") == (
        "vnet0",
        1_000,
    )


def test_tx_and_rx_are_told_apart() -> None:
    before = counters(**{"b-lan": 0, "b-fast": 0})
    after = {"b-lan": {"rx_bytes": 10, "tx_bytes": 900}, "b-fast": {"rx_bytes": 800, "tx_bytes": 20}}

    assert (busiest_link(before, after, "rx_bytes"), busiest_link(before, after, "tx_bytes")) == (
        ("b-fast", 800),
        ("b-lan", 900),
    )


def test_a_host_that_gave_no_sample_names_no_link() -> None:
    sample = counters(**{"a-fast": 5})
    assert busiest_link({}, sample, "tx_bytes") == (None, 0)
    assert busiest_link(sample, {}, "tx_bytes") == (None, 0)
    assert busiest_link(counters(lo=0), counters(lo=9), "tx_bytes") == (None, 0)


def test_bytes_counted_on_a_bridge_port_belong_to_the_bridge_above_it(captured) -> None:
    source = captured("bridged")["source"]  # br-mig (198.51.100.1) over the port a-fast
    before = counters(**{"a-lan": 0, "a-fast": 0, "br-mig": 0})
    port_counts_more = counters(**{"a-lan": 6_000, "a-fast": 68_000_128, "br-mig": 68_000_000})
    bridge_counts_more = counters(**{"a-lan": 6_000, "a-fast": 68_000_000, "br-mig": 68_000_128})

    assert carrier(source, before, port_counts_more) == ("br-mig (a-fast)", True)
    assert carrier(source, before, bridge_counts_more) == ("br-mig", True)


def test_bytes_on_the_lan_beside_a_bridged_migration_link_are_off_the_network(captured) -> None:
    source = captured("bridged")["source"]

    assert carrier(source, counters(**{"a-lan": 0, "a-fast": 0}), counters(**{"a-lan": 68_000_000, "a-fast": 0})) == (
        "a-lan",
        False,
    )


def test_bytes_counted_on_a_bond_member_belong_to_the_bridge_over_the_vlan_over_the_bond(captured) -> None:
    destination = captured("healthy")["destination"]
    stacked("bond-8023ad-member-down")(destination)  # br-mig > bond0.100 > bond0 > enp1s0f0, enp1s0f1
    before = counters(**{"b-lan": 0, "br-mig": 0, "bond0.100": 0, "bond0": 0, "enp1s0f0": 0, "enp1s0f1": 0})
    stream = {"br-mig": 68_000_000, "bond0.100": 68_000_000, "bond0": 68_000_400, "enp1s0f1": 0}
    member_counts_most = counters(**{"b-lan": 6_000, "enp1s0f0": 68_000_500}, **stream)
    bond_counts_most = counters(**{"b-lan": 6_000, "enp1s0f0": 68_000_300}, **stream)

    assert carrier(destination, before, member_counts_most, "rx_bytes") == ("br-mig (enp1s0f0)", True)
    assert carrier(destination, before, bond_counts_most, "rx_bytes") == ("br-mig (bond0)", True)


def test_without_a_migration_network_there_is_nothing_to_judge_against(captured) -> None:
    source = captured("healthy")["source"]

    assert migration_links(source, None) == []
    assert on_migration_network(source, "a-fast", None) is None


def test_a_side_that_named_no_link_is_not_on_the_migration_network(captured) -> None:
    source = captured("healthy")["source"]

    assert migration_links(source, NETWORK) == ["a-fast"]
    assert on_migration_network(source, None, NETWORK) is False
