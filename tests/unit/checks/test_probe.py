"""probe.migration-port: the record migdoctor.actions.probe.run_probe returns, judged. The fast and
LAN records carry the values the lab's healthy and seed runs measured."""

import pytest
from check_records import probe_record

from migdoctor.checkapi import Status

CHECK = "probe.migration-port"


def test_probe_across_the_migration_links_passes(make_pair, judge):
    finding = judge(CHECK, make_pair(probe=probe_record()))

    assert finding.status == Status.PASS
    assert finding.summary == (
        "71.6 MiB to hostb-fast.lab.test:49152 crossed hosta a-fast -> hostb b-fast at 956.4 Mb/s once steady; "
        "hostb-fast.lab.test:49215, the last port of the range, accepted a connection too"
    )


def test_last_port_refused_or_dropped_fails_naming_it_though_the_first_took_the_sample(make_pair, judge):
    """A half-open range (iptables-legacy accepting 49152:49183, policy DROP): the sample to the
    first port crossed the fast link, the connection to the last timed out."""
    half_open = probe_record(last_error="TimeoutError: timed out")

    finding = judge(CHECK, make_pair(probe=half_open))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hosta reached hostb-fast.lab.test:49152 but not hostb-fast.lab.test:49215, the last port of the "
        "migration range, on hostb: TimeoutError: timed out"
    )
    assert [(e.host, e.item, e.actual) for e in finding.evidence] == [
        ("hosta", "connect hostb-fast.lab.test:49152", "connected"),
        ("hosta", "connect hostb-fast.lab.test:49215 (last port)", "TimeoutError: timed out"),
    ]
    assert finding.remediation.startswith("see the firewall.* findings for hostb: ")


@pytest.mark.parametrize(
    ("change", "ending"),
    [
        (
            {"last_port": None, "last_untried": "port 49215 is in use: Address already in use"},
            " Mb/s once steady; the last port of the range was not tried: port 49215 is in use: Address already in use",
        ),
        ({"last_port": None}, " at 956.4 Mb/s once steady"),
    ],
    ids=["last-port-in-use", "one-port-range"],
)
def test_last_port_not_tried_passes_on_the_first_and_says_why(make_pair, judge, change, ending):
    finding = judge(CHECK, make_pair(probe=probe_record(**change)))

    assert finding.status == Status.PASS
    assert finding.summary.endswith(ending)
    assert "49215 (last port)" not in str(finding.evidence)


def test_a_sample_that_never_got_steady_gives_its_own_rate(make_pair, judge):
    short = probe_record(bandwidth_mbps=None, bandwidth_bytes=0, bandwidth_s=0.0)

    finding = judge(CHECK, make_pair(probe=short))

    assert finding.status == Status.PASS
    assert " b-fast at 962.6 Mb/s; " in finding.summary


def test_probe_that_crossed_the_lan_fails(make_pair, judge):
    lan = probe_record(
        name="hostb.lab.test",
        bytes=8323072,
        rate_mbps=97.0,
        bandwidth_mbps=95.7,
        bandwidth_bytes=6575866,
        bandwidth_s=0.55,
        source_link="a-lan",
        destination_link="b-lan",
        address="192.0.2.2",
    )

    finding = judge(CHECK, make_pair("seed", probe=lan))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "the probe's 7.94 MiB left hosta by a-lan and reached hostb on b-lan: off the migration network"
    )
    assert [(e.host, e.actual, e.expected) for e in finding.evidence] == [
        ("hosta", "a-lan", ["a-fast"]),
        ("hostb", "b-lan", ["b-fast"]),
        ("hosta", 97.0, None),
        ("hostb", 95.7, None),
        ("hosta", "connected", "connected"),
    ]
    assert finding.remediation == "see dns.migration-host-address and route.egress-interface"


def test_connection_error_fails_with_its_text(make_pair, judge):
    refused = probe_record(
        error="ConnectionRefusedError: Connection refused",
        last_error="ConnectionRefusedError: Connection refused",
        bytes=0,
        rate_mbps=None,
        source_link=None,
        destination_link=None,
    )

    finding = judge(CHECK, make_pair(probe=refused))

    assert finding.status == Status.FAIL
    assert finding.summary == (
        "hosta could not reach hostb-fast.lab.test:49152 on hostb: ConnectionRefusedError: Connection refused; "
        "nor hostb-fast.lab.test:49215: ConnectionRefusedError: Connection refused"
    )
    assert [(e.host, e.item, e.actual) for e in finding.evidence] == [
        ("hosta", "connect hostb-fast.lab.test:49152", "ConnectionRefusedError: Connection refused"),
        ("hosta", "connect hostb-fast.lab.test:49215 (last port)", "ConnectionRefusedError: Connection refused"),
    ]
    assert finding.remediation == "see the firewall.* and listen.* findings for hostb"


def test_listener_that_did_not_start_fails_with_its_text(make_pair, judge):
    error = (
        "hostb: probe listener did not start: "
        "cannot listen on 198.51.100.9 ports 49152-49215: [Errno 99] Cannot assign requested address"
    )
    finding = judge(CHECK, make_pair(probe=probe_record(name=None, port=None, error=error, bytes=0, source_link=None)))

    assert finding.status == Status.FAIL
    assert error in finding.summary
    assert "None" not in finding.summary
    assert finding.evidence[0].host == "hostb"


@pytest.mark.parametrize(
    ("pair_args", "summary"),
    [
        ({}, "probe not run (saved facts judged, or --no-probe)"),
        (
            {"probe": probe_record(), "network": None},
            "no migration network given or inferable (use --migration-network CIDR)",
        ),
    ],
    ids=["not-run", "no-network"],
)
def test_probe_that_cannot_be_judged_is_skipped(make_pair, judge, pair_args, summary):
    finding = judge(CHECK, make_pair(**pair_args))

    assert (finding.status, finding.summary) == (Status.SKIP, summary)
