"""Pure pieces of the collectors, on values shaped as the kernel and libraries give them."""

import dns.exception
import dns.resolver
import pytest

from migdoctor.facts.gaps import Gaps
from migdoctor.facts.identity import advertised_hostname
from migdoctor.facts.libvirt import dotted_version, offers_kvm
from migdoctor.facts.network import link_kind, tbf_rate_bps
from migdoctor.facts.resolution import dns_error_kind
from migdoctor.parsers import ParseError


@pytest.mark.parametrize(
    ("info_kind", "name", "kind"),
    [
        (None, "lo", "loopback"),
        (None, "eno1", "physical"),
        ("bond", "bond0", "bond"),
        ("vlan", "bond0.20", "vlan"),
        ("bridge", "br0", "bridge"),
        ("veth", "a-fast", "veth"),
        ("macvlan", "mv0", "macvlan"),
        ("ipvlan", "ipv0", "other:ipvlan"),
    ],
)
def test_link_kind(info_kind: str | None, name: str, kind: str) -> None:
    assert link_kind(info_kind, name) == kind


def test_tbf_rate_prefers_the_64_bit_attribute() -> None:
    assert tbf_rate_bps({"TCA_TBF_PARMS": {"rate": 12_500_000}}) == 100_000_000
    assert tbf_rate_bps({"TCA_TBF_PARMS": {"rate": 0xFFFFFFFF}, "TCA_TBF_RATE64": 5_000_000_000}) == 40_000_000_000
    assert tbf_rate_bps(None) is None


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        (dns.resolver.NXDOMAIN(), "nxdomain"),
        (dns.resolver.NoAnswer(), "no-answer"),
        (dns.exception.Timeout(), "timeout"),
        (dns.resolver.NoNameservers(), "no-nameservers"),
        (dns.resolver.NoResolverConfiguration(), "no-resolver-configuration"),
    ],
)
def test_dns_failures_are_said_apart(exception: Exception, kind: str) -> None:
    assert dns_error_kind(exception) == kind


def test_libvirt_versions_and_kvm_from_capabilities() -> None:
    assert dotted_version(9_000_000) == "9.0.0" and dotted_version(7_002_022) == "7.2.22"
    capabilities = """<capabilities><guest><os_type>hvm</os_type><arch name='x86_64'>
      <domain type='qemu'/><domain type='kvm'/></arch></guest></capabilities>"""
    assert offers_kvm(capabilities)
    assert not offers_kvm(capabilities.replace("<domain type='kvm'/>", ""))


def test_hostname_with_a_dot_is_advertised_as_is() -> None:
    assert advertised_hostname("hostb.lab.test") == "hostb.lab.test"


def test_gaps_record_why_and_where() -> None:
    gaps = Gaps()

    def broken() -> None:
        raise ParseError("/etc/libvirt/qemu.conf", 12, "expected a value")

    assert gaps.attempt("qemu_conf", broken) is None
    assert gaps.attempt("hosts_file", lambda: open("/nonexistent/hosts")) is None  # noqa: SIM115
    assert gaps.entries == [
        {"fact": "qemu_conf", "reason": "parse error: expected a value", "file": "/etc/libvirt/qemu.conf", "line": 12},
        {"fact": "hosts_file", "reason": "file not found", "file": "/nonexistent/hosts"},
    ]
