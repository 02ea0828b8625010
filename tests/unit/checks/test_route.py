"""route.*: the link each host's route to the other's migration address leaves by (hosta a-fast
198.51.100.1, hostb b-fast 198.51.100.2; the LAN 192.0.2.0/24 and mgmt 203.0.113.0/24 beside)."""

import pytest

from migdoctor.checkapi import Status
from migdoctor.judging.facts import route_to


def route(destination, **change):
    """The kernel's answer to `ip route get DESTINATION` on one host, changed."""
    return lambda facts: route_to(facts, destination).update(change)


def test_both_directions_pass_on_the_migration_links(make_pair, judge):
    egress = judge("route.egress-interface", make_pair())
    back = judge("route.return-path", make_pair())

    assert (egress.status, egress.summary) == (Status.PASS, "hosta reaches 198.51.100.2 by dev a-fast")
    assert (back.status, back.summary) == (Status.PASS, "hostb reaches 198.51.100.1 by dev b-fast")


def test_gateway_for_an_on_link_address_fails(make_pair, judge):
    """A stale host route `198.51.100.2 via 198.51.100.254`: same link, but through a router."""
    finding = judge("route.egress-interface", make_pair(src=route("198.51.100.2", gateway="198.51.100.254")))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hosta reaches 198.51.100.2 via gateway 198.51.100.254 although 198.51.100.2 is on-link on a-fast"
    )
    assert [(e.host, e.actual, e.expected) for e in finding.evidence] == [
        ("hosta", "dev a-fast via 198.51.100.254", "dev a-fast")
    ]
    assert finding.remediation == "hosta: ip route del 198.51.100.2 via 198.51.100.254"


@pytest.mark.parametrize(
    ("check_id", "side", "peer", "change", "summary", "remediation"),
    [
        (
            "route.egress-interface",
            "src",
            "198.51.100.2",
            {"interface": "a-lan", "gateway": "192.0.2.254", "source": "192.0.2.1"},
            "hosta reaches 198.51.100.2 by a-lan, not by its migration link a-fast",
            "hosta: remove the route to 198.51.100.2 by a-lan (ip route del 198.51.100.2); "
            "the connected route on a-fast then applies",
        ),
        (
            "route.return-path",
            "dst",
            "198.51.100.1",
            {"interface": "b-mgmt", "gateway": "203.0.113.254", "source": "203.0.113.2"},
            "hostb reaches 198.51.100.1 by b-mgmt, not by its migration link b-fast",
            "hostb: remove the route to 198.51.100.1 by b-mgmt (ip route del 198.51.100.1); "
            "the connected route on b-fast then applies",
        ),
    ],
    ids=["egress-by-lan", "return-by-mgmt"],
)
def test_route_by_another_link_fails(make_pair, judge, check_id, side, peer, change, summary, remediation):
    finding = judge(check_id, make_pair(**{side: route(peer, **change)}))

    assert finding.status == Status.FAIL
    assert finding.summary == summary
    assert finding.evidence[0].actual == f"dev {change['interface']} via {change['gateway']}"
    assert finding.remediation == remediation


def test_no_route_at_all_fails_with_the_kernel_error(make_pair, judge):
    unreachable = {"destination": "198.51.100.2", "error": "Network is unreachable"}

    def no_route(src):
        src["route_lookups"][0] = unreachable

    finding = judge("route.egress-interface", make_pair(src=no_route))

    assert finding.status == Status.FAIL
    assert finding.summary == "hosta has no route to 198.51.100.2: Network is unreachable"
    assert finding.remediation == "hosta: ip route add 198.51.100.2 dev a-fast"


@pytest.mark.parametrize(
    ("pair_args", "summary"),
    [
        ({"network": None}, "no migration network given or inferable (use --migration-network CIDR)"),
        ({"network": "10.20.0.0/24"}, "hosta has no address on the migration network 10.20.0.0/24"),
        (
            {"src": lambda src: src.update(route_lookups=[])},
            "hosta: no route look-up for 198.51.100.2 in its facts (collect with --route-to 198.51.100.2)",
        ),
    ],
    ids=["no-network", "not-on-network", "not-looked-up"],
)
def test_what_cannot_be_judged_is_skipped(make_pair, judge, pair_args, summary):
    finding = judge("route.egress-interface", make_pair(**pair_args))

    assert (finding.status, finding.summary) == (Status.SKIP, summary)
