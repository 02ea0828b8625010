"""link.path-mtu on what the path MTU probe returned in the lab: healthy (1500 end to end) and
jumbo-path (both hosts at 9000, a switch at 1500 between them)."""

from check_records import path_mtu_record, probe_record

from migdoctor.checkapi import Status

JUMBO = path_mtu_record(source_mtu=9000, peer_mtu=9000, expected=9000, largest=1500)


def judged(make_pair, judge, record, **pair):
    return judge("link.path-mtu", make_pair(probe=probe_record(path_mtu=record), **pair))


def test_full_size_packets_through_pass(make_pair, judge):
    finding = judged(make_pair, judge, path_mtu_record())

    assert finding.status == Status.PASS
    assert finding.summary == (
        "1500-byte packets with don't-fragment reach hostb 198.51.100.2 from hosta a-fast (icmp)"
    )


def test_a_smaller_hop_fails_naming_the_largest_size_and_where_the_mtu_is_set(make_pair, judge):
    finding = judged(make_pair, judge, JUMBO)

    assert finding.status == Status.FAIL
    assert finding.summary.startswith(
        "packets above 1500 bytes with don't-fragment do not reach hostb 198.51.100.2 from hosta, "
        "though both migration links take 9000: a hop between them has a smaller MTU; nothing on the path said so"
    )
    assert [(e.host, e.item, e.actual, e.expected) for e in finding.evidence] == [
        ("hosta", "largest don't-fragment packet to 198.51.100.2 (icmp)", 1500, 9000),
        ("hosta", "link a-fast mtu", 9000, None),
        ("hostb", "link b-fast mtu", 9000, None),
    ]
    assert finding.remediation == (
        "let every switch port, bridge and router between hosta a-fast and hostb b-fast pass 9000-byte frames; "
        "or set both ends to 1500: hosta: ip link set a-fast mtu 1500, hostb: ip link set b-fast mtu 1500 "
        "(and in their network configuration)"
    )


def test_a_router_that_says_so_is_named(make_pair, judge):
    record = JUMBO | {"too_big_from": "198.51.100.254", "too_big_mtu": 1500, "method": "tcp"}

    finding = judged(make_pair, judge, record)

    assert finding.status == Status.FAIL
    assert "198.51.100.254 answered that its next hop takes 1500 bytes" in finding.summary
    assert finding.evidence[-1].host == "198.51.100.254" and finding.evidence[-1].actual == 1500


def test_not_allowed_to_probe_is_a_skip_with_the_reason(make_pair, judge):
    why = "ICMP not allowed: no raw ICMP socket (needs root or CAP_NET_RAW) and no ping socket (net.ipv4.ping_group_range)"
    finding = judged(make_pair, judge, path_mtu_record(skipped=why, largest=None, method=None))

    assert (finding.status, finding.summary) == (Status.SKIP, f"path MTU from hosta not probed: {why}")


def test_without_the_probe_the_check_skips(make_pair, judge):
    finding = judge("link.path-mtu", make_pair())

    assert finding.status == Status.SKIP and "not run" in finding.summary
