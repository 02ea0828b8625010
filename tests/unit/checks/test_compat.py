"""compat.versions: both lab hosts run kvm with libvirt 9.0.0 and QEMU 7.2.22."""

import pytest

from migdoctor.checkapi import Status

CHECK = "compat.versions"


def hypervisor(**change):
    return lambda facts: facts["identity"]["hypervisor"].update(change)


def libvirt(**change):
    return lambda facts: facts["identity"]["hypervisor"]["libvirt"].update(change)


@pytest.mark.parametrize(
    "dst",
    [None, libvirt(version="10.0.0", hypervisor_version="8.2.1"), hypervisor(kinds=["kvm", "xen"])],
    ids=["same", "destination-newer", "destination-also-xen"],
)
def test_same_hypervisor_and_versions_no_older_pass(make_pair, judge, dst):
    finding = judge(CHECK, make_pair(dst=dst))

    assert finding.status == Status.PASS
    assert finding.summary.startswith("both run kvm")


@pytest.mark.parametrize(
    ("dst", "problem"),
    [
        (hypervisor(kinds=["xen"]), "hypervisors differ: hosta ['kvm'], hostb ['xen']"),
        (hypervisor(kinds=[]), "hypervisors differ: hosta ['kvm'], hostb none"),
        (libvirt(version="8.0.0"), "hostb's libvirt 8.0.0 is older than hosta's 9.0.0"),
        (libvirt(hypervisor_version="7.2.9"), "hostb's QEMU 7.2.9 is older than hosta's 7.2.22"),  # numbers, not text
    ],
    ids=["xen-destination", "no-hypervisor", "libvirt-older", "qemu-older"],
)
def test_destination_that_cannot_run_the_guest_fails(make_pair, judge, dst, problem):
    finding = judge(CHECK, make_pair(dst=dst))

    assert finding.status == Status.FAIL
    assert finding.summary == problem
    assert {e.host for e in finding.evidence} == {"hostb"}
    assert finding.remediation == "hostb: upgrade libvirt/QEMU to at least the source's versions"


def test_evidence_shows_both_versions(make_pair, judge):
    finding = judge(CHECK, make_pair(dst=libvirt(version="8.0.0", hypervisor_version="6.2.0")))

    assert finding.summary == (
        "hostb's libvirt 8.0.0 is older than hosta's 9.0.0; hostb's QEMU 6.2.0 is older than hosta's 7.2.22"
    )
    assert [(e.item, e.actual, e.expected) for e in finding.evidence] == [
        ("hypervisor kinds", ["kvm"], ["kvm"]),
        ("libvirt version", "8.0.0", ">= 9.0.0"),
        ("QEMU version", "6.2.0", ">= 7.2.22"),
    ]
