"""Every check over the captured facts: all pass on the healthy pair, and each fact a check needs,
when its host could not collect it, makes the check SKIP with the reason the collector recorded."""

import pytest
from check_records import probe_record

from migdoctor.checkapi import Status
from migdoctor.engine import discover, pair_checks

CHECKS = pair_checks(discover())  # guest checks: tests/unit/checks/test_guest.py
# Every check but xen.* (the lab hosts run KVM and have no xend-config.sxp), the test migration and
# the peer connection (active steps, not among the captured facts) and the certificate checks (the
# healthy lab migrates over qemu+ssh without TLS; test_tls gives them certificates).
PASSING_ON_HEALTHY = [
    check.id for check in CHECKS if check.area not in ("xen", "migration", "trust") and "dst.tls" not in check.needs
]

# What migdoctor.facts records under `missing` when the fact cannot be collected: the gap's fact
# name (the whole netlink read for links and routes), its reason, and the file where there is one.
GAPS = {
    "links": ("network", "NetlinkError: (1, 'Operation not permitted')", None),
    "route_lookups": ("network", "NetlinkError: (1, 'Operation not permitted')", None),
    "listeners": ("listeners", "NetlinkError: (13, 'Permission denied')", None),
    "firewall": ("firewall", "neither nft nor iptables-save is installed", None),
    "qemu_conf": ("qemu_conf", "permission denied", "/etc/libvirt/qemu.conf"),
    "libvirtd_conf": ("libvirtd_conf", "parse error: expecting a value", "/etc/libvirt/libvirtd.conf"),
    "xend_config": ("xend_config", "parse error: unexpected EOF: this ( is never closed", "/etc/xen/xend-config.sxp"),
    "libvirt": (
        "libvirt",
        "libvirtError: Failed to connect socket to '/var/run/libvirt/libvirt-sock-ro': No such file or directory",
        None,
    ),
}
NEEDS = [(check.id, need) for check in CHECKS for need in check.needs]
LABELS = {"src": "hosta", "dst": "hostb"}


def uncollected(need):
    """The facts a host records when NEED could not be collected: the value None, the gap listed."""
    _, *keys = need.split(".")

    def mutate(facts):
        parent = facts
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = None
        if keys[-1] in GAPS:
            fact, reason, path = GAPS[keys[-1]]
            facts["missing"].append({"fact": fact, "reason": reason} | ({"file": path} if path else {}))

    return mutate


@pytest.mark.parametrize("check_id", PASSING_ON_HEALTHY)
def test_every_check_passes_on_the_healthy_pair(make_pair, judge, check_id):
    finding = judge(check_id, make_pair(min_link_speed_mbps=1000, probe=probe_record()))

    assert finding.status == Status.PASS, finding.summary


# Healthy captures of other shapes: (migration network, what the probe returned there).
HEALTHY_VARIANTS = {
    "ipv6": ("2001:db8:0:100::/64", probe_record(address="2001:db8:0:100::2", local_address="2001:db8:0:100::1")),
    "ipv6-literal": (
        "198.51.100.0/24,2001:db8:0:100::/64",
        probe_record(address="2001:db8:0:100::2", local_address="2001:db8:0:100::1"),
    ),
    "bridged": ("198.51.100.0/24", probe_record()),  # the bytes counted on the bridges' ports
}


@pytest.mark.parametrize("report", HEALTHY_VARIANTS)
@pytest.mark.parametrize("check_id", PASSING_ON_HEALTHY)
def test_every_check_passes_on_the_healthy_variants(make_pair, judge, check_id, report):
    network, probe = HEALTHY_VARIANTS[report]
    pair = make_pair(report, network=network, min_link_speed_mbps=1000, probe=probe)

    finding = judge(check_id, pair)

    assert finding.status == Status.PASS, finding.summary


@pytest.mark.parametrize(("check_id", "need"), NEEDS, ids=[f"{check_id}:{need}" for check_id, need in NEEDS])
def test_missing_needed_fact_skips_with_the_collectors_reason(make_pair, judge, check_id, need):
    side = need.split(".")[0]
    pair = make_pair(**{side: uncollected(need)})

    finding = judge(check_id, pair)

    assert finding.status == Status.SKIP
    gap = GAPS.get(need.split(".")[-1])
    if gap is None:  # resolution and identity are always collected; a record without them is not ours
        assert finding.summary == f"{LABELS[side]}: {need.partition('.')[2]} not collected"
    else:
        fact, reason, path = gap
        assert finding.summary == f"{LABELS[side]}: {fact} not collected: {reason}" + (f" ({path})" if path else "")
    assert finding.evidence == [] and finding.remediation is None
