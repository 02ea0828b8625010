"""link.speed and link.mtu through link stacks: hostb's migration address on br-mig over VLAN 100
over bond0, the bond's members taken from real /proc/net/bonding captures (tests/data/links)."""

import pytest
from check_records import probe_record
from link_stacks import stacked

from migdoctor.checkapi import Status


def ten_gigabit_source(src):
    """hosta's a-fast as a 10 Gb/s NIC without shaping: only hostb's stack can be the slow end."""
    fast = next(item for item in src["links"] if item["name"] == "a-fast")
    fast.update(speed_mbps=10000, qdisc={"kind": "mq", "rate_bps": None})


def speed(make_pair, judge, capture, minimum=1000, **stack):
    pair = make_pair(src=ten_gigabit_source, dst=stacked(capture, **stack), min_link_speed_mbps=minimum)
    return judge("link.speed", pair)


def test_8023ad_bond_with_a_member_down_is_named_degraded(make_pair, judge):
    finding = speed(make_pair, judge, "bond-8023ad-member-down")

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hostb's migration link br-mig runs on a degraded bond: bond0 member enp1s0f0 is down (a stream gets 1000 Mb/s)"
    )
    assert finding.evidence[1].item == (
        "link br-mig effective rate via br-mig (bridge) > bond0.100 (vlan 100) > "
        "bond0 (bond 802.3ad: on enp1s0f1 (1000 Mb/s)) (Mb/s)"
    )
    assert finding.evidence[1].actual == 1000
    assert finding.remediation.startswith("hostb: bring the member back (cat /proc/net/bonding/bond0;")


def test_8023ad_member_up_outside_the_active_aggregator_is_degraded(make_pair, judge):
    finding = speed(make_pair, judge, "bond-8023ad-split-aggregator")

    assert finding.status == Status.FAIL
    assert "bond0 member eth2 is up but outside the active 802.3ad aggregator 3 (it is in 2)" in finding.summary


def test_active_backup_stream_rides_the_active_member(make_pair, judge):
    finding = speed(make_pair, judge, "bond-active-backup")

    assert finding.status == Status.PASS
    assert finding.evidence[1].item == (
        "link br-mig effective rate via br-mig (bridge) > bond0.100 (vlan 100) > "
        "bond0 (bond active-backup: on ens33 (1000 Mb/s)) (Mb/s)"
    )


def test_active_backup_counts_one_member_not_the_sum(make_pair, judge):
    """Two 1000 Mb/s members: 2000 Mb/s is what the bond reports, 1000 what a migration gets."""
    finding = speed(make_pair, judge, "bond-active-backup", minimum=2000)

    assert finding.status == Status.FAIL
    assert finding.summary == "hostb's migration link br-mig carries 1000 Mb/s, below the minimum 2000 Mb/s"
    assert "of each device via br-mig (bridge) > bond0.100 (vlan 100) > bond0" in finding.remediation


def test_round_robin_stripes_one_stream_over_every_member(make_pair, judge):
    finding = speed(make_pair, judge, "bond-balance-rr", minimum=2000)

    assert finding.status == Status.PASS
    assert finding.evidence[1].actual == 2000
    assert "bond0 (bond balance-rr: striped over eno1 (1000 Mb/s), eno2 (1000 Mb/s))" in finding.evidence[1].item


def test_shaping_on_the_bridge_caps_the_stack(make_pair, judge):
    def shaped_bridge(dst):
        stacked("bond-active-backup")(dst)
        next(item for item in dst["links"] if item["name"] == "br-mig")["qdisc"] = {"kind": "tbf", "rate_bps": 5e8}

    finding = judge("link.speed", make_pair(dst=shaped_bridge, min_link_speed_mbps=1000))

    assert finding.status == Status.FAIL and finding.evidence[1].actual == 500


@pytest.mark.parametrize("lower", ["bond0.100", "bond0"])
def test_a_lower_device_with_a_smaller_mtu_than_the_stack_top_fails_naming_it(make_pair, judge, lower):
    finding = judge("link.mtu", make_pair(dst=stacked("bond-active-backup", mtus={lower: 1500})))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        f"hostb's migration link br-mig has MTU 9000 but the device {lower} below it has 1500: "
        "frames above 1500 bytes are dropped there"
    )
    assert finding.remediation.startswith(f"hostb: ip link set {lower} mtu 9000")


def test_jumbo_stack_against_a_1500_source_is_a_mismatch_between_hosts(make_pair, judge):
    finding = judge("link.mtu", make_pair(dst=stacked("bond-active-backup")))

    assert finding.status == Status.FAIL
    assert finding.summary == "MTU differs: hosta a-fast 1500, hostb br-mig 9000"


# --- bridged: captured in the lab, br-mig over the fast veth on both hosts ------------------------


def test_captured_bridge_takes_its_ports_speed(make_pair, judge):
    finding = judge("link.speed", make_pair("bridged", min_link_speed_mbps=1000))

    assert finding.status == Status.PASS
    assert [(e.item, e.actual) for e in finding.evidence] == [
        ("link br-mig effective rate via br-mig (bridge) > a-fast (1000 Mb/s) (Mb/s)", 1000),
        ("link br-mig effective rate via br-mig (bridge) > b-fast (1000 Mb/s) (Mb/s)", 1000),
    ]


def test_probe_bytes_counted_on_a_bridge_port_belong_to_the_bridge(make_pair, judge):
    probe = probe_record(source_link="a-fast", destination_link="b-fast")

    finding = judge("probe.migration-port", make_pair("bridged", probe=probe))

    assert finding.status == Status.PASS
    assert "crossed hosta br-mig (a-fast) -> hostb br-mig (b-fast)" in finding.summary


def test_probe_bytes_on_a_port_of_another_bridge_are_off_the_network(make_pair, judge):
    probe = probe_record(source_link="a-lan", destination_link="b-lan")

    finding = judge("probe.migration-port", make_pair("bridged", probe=probe))

    assert finding.status == Status.FAIL
    assert finding.evidence[0].actual == "a-lan" and finding.evidence[0].expected == ["br-mig"]
