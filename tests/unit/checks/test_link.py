"""link.*: the migration links a-fast and b-fast. In the lab both are veths the kernel reports at
10000 Mb/s, shaped by a tbf qdisc to 1 Gb/s; the LAN links are shaped to 100 Mb/s."""

import pytest

from migdoctor.checkapi import Status
from migdoctor.judging.facts import link_named

LABELS = {"src": "hosta", "dst": "hostb"}


def link(name, **change):
    return lambda facts: link_named(facts, name).update(change)


@pytest.mark.parametrize(
    ("side", "name", "change", "summary"),
    [
        (
            "dst",
            "b-fast",
            {"admin_up": False, "state": "DOWN"},
            "hostb's migration link b-fast is DOWN (administratively down)",
        ),
        ("src", "a-fast", {"admin_up": True, "state": "DOWN"}, "hosta's migration link a-fast is DOWN"),
        (
            "src",
            "a-fast",
            {"admin_up": True, "state": "LOWERLAYERDOWN"},
            "hosta's migration link a-fast is LOWERLAYERDOWN",
        ),
    ],
    ids=["admin-down", "no-carrier", "lower-layer-down"],
)
def test_link_down_fails_naming_host_link_and_state(make_pair, judge, side, name, change, summary):
    finding = judge("link.state", make_pair(**{side: link(name, **change)}))

    assert finding.status == Status.FAIL
    assert finding.summary == summary
    assert [(e.item, e.actual, e.expected) for e in finding.evidence] == [(f"link {name} state", change["state"], "UP")]
    assert finding.remediation.startswith(f"{LABELS[side]}: ip link set {name} up;")


def test_link_set_down_is_named_before_its_peer_that_lost_carrier(make_pair, judge):
    """`ip link set b-fast down` takes the carrier from a-fast too: the cause is on hostb."""
    pair = make_pair(src=link("a-fast", state="LOWERLAYERDOWN"), dst=link("b-fast", admin_up=False, state="DOWN"))

    finding = judge("link.state", pair)

    assert finding.status == Status.FAIL
    assert finding.summary == "hostb's migration link b-fast is DOWN (administratively down)"
    assert {e.host for e in finding.evidence} == {"hosta", "hostb"}


def test_links_up_pass(make_pair, judge):
    finding = judge("link.state", make_pair(dst=link("b-fast", state="UNKNOWN")))  # tun/dummy links say UNKNOWN

    assert (finding.status, finding.summary) == (Status.PASS, "both migration links are up")


def test_tbf_shaping_below_the_minimum_fails_though_the_nic_is_faster(make_pair, judge):
    finding = judge("link.speed", make_pair(min_link_speed_mbps=2500))

    assert finding.status == Status.FAIL
    assert finding.summary == "hosta's migration link a-fast carries 1000 Mb/s, below the minimum 2500 Mb/s"
    assert [(e.host, e.item, e.actual, e.expected) for e in finding.evidence] == [
        ("hosta", "link a-fast effective rate (Mb/s)", 1000, ">= 2500"),
        ("hostb", "link b-fast effective rate (Mb/s)", 1000, ">= 2500"),
    ]
    assert (
        finding.remediation
        == "hosta: check link a-fast's negotiated speed (ethtool a-fast) and its qdisc (tc qdisc show dev a-fast)"
    )


def test_the_slower_end_decides(make_pair, judge):
    """Shaping off on hosta (10000 Mb/s), still 1 Gb/s on hostb: hostb is named."""
    unshaped = link("a-fast", qdisc={"kind": "fq_codel", "rate_bps": None})
    finding = judge("link.speed", make_pair(src=unshaped, min_link_speed_mbps=2500))

    assert finding.status == Status.FAIL
    assert [e.actual for e in finding.evidence] == [10000, 1000]
    assert finding.summary.startswith("hostb's migration link b-fast carries 1000 Mb/s")


def test_negotiated_speed_below_the_shaping_decides(make_pair, judge):
    finding = judge("link.speed", make_pair(dst=link("b-fast", speed_mbps=100), min_link_speed_mbps=1000))

    assert finding.status == Status.FAIL
    assert finding.summary == "hostb's migration link b-fast carries 100 Mb/s, below the minimum 1000 Mb/s"


def test_shaping_below_one_megabit_is_not_mistaken_for_no_shaping(make_pair, judge):
    throttled = link("a-fast", qdisc={"kind": "tbf", "rate_bps": 512_000})
    finding = judge("link.speed", make_pair(src=throttled, min_link_speed_mbps=100))

    assert finding.status == Status.FAIL
    assert finding.summary == "hosta's migration link a-fast carries 0 Mb/s, below the minimum 100 Mb/s"


def test_links_at_the_minimum_pass(make_pair, judge):
    finding = judge("link.speed", make_pair(min_link_speed_mbps=1000))

    assert (finding.status, finding.summary) == (
        Status.PASS,
        "migration links carry 1000 Mb/s, 1000 Mb/s (minimum 1000)",
    )


@pytest.mark.parametrize(
    ("pair_args", "summary"),
    [
        ({}, "no --min-link-speed given"),
        (
            {
                "dst": link("b-fast", speed_mbps=None, qdisc={"kind": "noqueue", "rate_bps": None}),
                "min_link_speed_mbps": 1000,
            },
            "the speed of a migration link is unknown to its kernel",
        ),
    ],
    ids=["no-minimum", "unknown-speed"],
)
def test_speed_that_cannot_be_judged_is_skipped(make_pair, judge, pair_args, summary):
    finding = judge("link.speed", make_pair(**pair_args))

    assert (finding.status, finding.summary) == (Status.SKIP, summary)


def test_mtu_mismatch_fails_naming_both_ends(make_pair, judge):
    finding = judge("link.mtu", make_pair(dst=link("b-fast", mtu=9000)))

    assert finding.status == Status.FAIL
    assert finding.summary == "MTU differs: hosta a-fast 1500, hostb b-fast 9000"
    assert [(e.host, e.item, e.actual, e.expected) for e in finding.evidence] == [
        ("hosta", "link a-fast mtu", 1500, 9000),
        ("hostb", "link b-fast mtu", 9000, 1500),
    ]
    assert finding.remediation == (
        "hosta: ip link set a-fast mtu 9000 (and in its network configuration), or lower hostb's to 1500"
    )


def test_same_mtu_passes(make_pair, judge):
    finding = judge("link.mtu", make_pair())

    assert (finding.status, finding.summary) == (Status.PASS, "both migration links have MTU 1500")
