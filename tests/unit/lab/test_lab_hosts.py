"""How many hosts a lab has, and what that makes of its scenarios, wires and inventory: pure
data, no root needed. The lab tests (tests/lab/test_lab_hosts_lab.py) bring the same up for real."""

import pytest

from migdoctor.lab import inventory, layout, network, scenario
from migdoctor.lab.errors import LabError


def test_existing_scenarios_keep_two_hosts_cabled_back_to_back():
    seed = scenario.load("seed")
    assert list(seed.hosts) == ["hosta", "hostb"]
    assert not seed.switched("lan") and not seed.switched("fast")
    assert "hostc.lab.test" not in seed.dns_records
    jumbo = scenario.load("jumbo-path")
    assert not jumbo.switched("lan") and jumbo.switched("fast")  # its hop, as before


@pytest.mark.parametrize("count", [3, 4])
def test_more_hosts_meet_on_the_switches_with_names_and_addresses_of_their_own(count):
    scn = scenario.load("healthy", count)
    names = ["hosta", "hostb", "hostc", "hostd"][:count]
    assert list(scn.hosts) == names
    assert scn.switched("lan") and scn.switched("fast")
    last = layout.ALL_HOSTS[names[-1]]
    assert scn.dns_records[f"{last.name}.lab.test"] == [f"192.0.2.{count}"]
    assert scn.dns_records[f"{last.name}-fast.lab.test"] == [f"198.51.100.{count}"]
    assert scn.dns_records[f"{last.name}-mgmt.lab.test"] == [f"203.0.113.{count}"]
    assert scn.hosts[last.name].qemu_conf["migration_host"] == f"{last.name}-fast.lab.test"
    ends = network.ends_with_carrier(scn)
    assert ends[layout.SWITCH_NS] == {f"{role}-{h[-1]}" for h in names for role in ("lan", "fast")}
    assert ends[last.netns] == {f"{last.letter}-lan", f"{last.letter}-fast", f"{last.letter}-mgmt"}


def test_a_switched_host_whose_link_is_down_leaves_the_others_expecting_carrier():
    scn = scenario.load("fast-link-down", 3)  # hostb's fast link down
    ends = network.ends_with_carrier(scn)
    assert "b-fast" not in ends["mdlab-hostb"] and "fast-b" not in ends[layout.SWITCH_NS]
    assert {"a-fast", "c-fast"} <= ends["mdlab-hosta"] | ends["mdlab-hostc"]


def test_the_switch_takes_the_largest_mtu_a_host_sends():
    assert network._largest_mtu(scenario.load("mtu-mismatch", 3), "fast") == 9000
    assert network._largest_mtu(scenario.load("healthy", 3), "lan") == network.DEFAULT_MTU


def test_evacuate_one_bad_has_four_hosts_and_only_hostc_advertises_its_lan_name():
    scn = scenario.load("evacuate-one-bad")
    assert list(scn.hosts) == ["hosta", "hostb", "hostc", "hostd"]
    advertised = {name: cfg.qemu_conf["migration_host"] for name, cfg in scn.hosts.items()}
    assert advertised == {
        "hosta": "hosta-fast.lab.test",
        "hostb": "hostb-fast.lab.test",
        "hostc": "hostc.lab.test",
        "hostd": "hostd-fast.lab.test",
    }
    assert scn.dns_records["hostc.lab.test"] == ["192.0.2.3"]
    assert 'iifname { "c-lan", "c-fast" } tcp dport 49152-49215 accept' in scn.hosts["hostc"].nftables
    assert "(4 hosts)" in scenario.available()["evacuate-one-bad"]
    assert "hosts)" not in scenario.available()["seed"]


def test_a_scenario_that_configures_hostc_refuses_fewer_hosts():
    with pytest.raises(LabError, match=r"evacuate-one-bad configures hostc: it needs --hosts 3 or more"):
        scenario.load("evacuate-one-bad", 2)
    assert list(scenario.load("evacuate-one-bad", 3).hosts) == ["hosta", "hostb", "hostc"]


@pytest.mark.parametrize("count", [1, 5])
def test_host_counts_outside_two_to_four_are_refused(count):
    with pytest.raises(LabError, match=f"a lab has 2 to 4 hosts, not {count}"):
        scenario.load("seed", count)


def test_inventory_lists_every_host_and_a_group_of_them():
    doc = inventory.build(scenario.load("healthy", 3))
    assert list(doc["hosts"]) == ["hosta", "hostb", "hostc"]
    assert doc["hosts"]["hostc"]["transport"] == "ssh://root@hostc"
    assert doc["groups"] == {"lab": ["hosta", "hostb", "hostc"]}


def test_inventory_of_the_lab_loads_with_its_group():
    import tomli_w

    from migdoctor.transports.inventory import parse_inventory

    text = tomli_w.dumps(inventory.build(scenario.load("healthy", 4)))
    assert parse_inventory(text, "lab").groups == {"lab": ["hosta", "hostb", "hostc", "hostd"]}


def test_down_knows_every_namespace_whatever_the_count():
    assert layout.namespaces() == [
        "mdlab-hosta",
        "mdlab-hostb",
        "mdlab-hostc",
        "mdlab-hostd",
        "mdlab-dns",
        "mdlab-hop",
    ]


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("99999999999999999999mbit", "above 1tbit"),
        ("2tbit", "above 1tbit"),
        ("nanmbit", "bad rate"),
        ("1e999mbit", "bad rate"),
        ("0.5mbit", "below 1mbit"),
    ],
)
def test_a_link_rate_out_of_range_is_refused_before_the_lab_is_touched(rate, message):
    with pytest.raises(LabError, match=message):
        network.rate_bits(rate)
    assert network.rate_bits("1tbit") == 10**12
